// ptft/core/log.h — human messages on stderr and machine events in metrics.jsonl.
//
//   log_info("resuming from " + dir);
//   MetricsLog m(run_dir + "/metrics.jsonl");      // appends
//   m.write({{"event", "eval"}, {"step", 200}, {"val_loss", 2.31}});
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <mutex>
#include <string>

namespace ptft {

void log_info(const std::string& msg);
void log_warn(const std::string& msg);
// log_info/log_warn print nothing after set_log_enabled(false): data-parallel ranks other than 0
// stay silent but for their errors (which the CLI prints).
void set_log_enabled(bool enabled);
// log_warn the first time `key` comes in this process, nothing after (a data file that training
// and evaluation open more than once warns once).
void log_warn_once(const std::string& key, const std::string& msg);
// Milliseconds since the Unix epoch / seconds since process start (monotonic).
double now_seconds();
std::string utc_timestamp();  // "2026-11-28T04:01:36Z"

// Appends one JSON object per line and flushes each line, so that a kill loses at most the
// line being written. Every object gets "time" (UTC) unless it has one.
class MetricsLog {
 public:
  MetricsLog() = default;
  explicit MetricsLog(const std::string& path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void open(const std::string& path);
  void write(nlohmann::json event);
  bool is_open() const { return f_ != nullptr; }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  std::mutex mu_;
};

}  // namespace ptft
