#include "ptft/core/log.h"

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <set>

#include "ptft/core/error.h"

namespace ptft {

namespace {
std::atomic<bool> g_log_enabled{true};
}  // namespace

void set_log_enabled(bool enabled) { g_log_enabled.store(enabled); }
void log_info(const std::string& msg) {
  if (g_log_enabled.load()) std::cerr << msg << std::endl;
}
void log_warn(const std::string& msg) {
  if (g_log_enabled.load()) std::cerr << "warning: " << msg << std::endl;
}

void log_warn_once(const std::string& key, const std::string& msg) {
  static std::mutex mu;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mu);
  if (warned.insert(key).second) log_warn(msg);
}

double now_seconds() {
  using clock = std::chrono::steady_clock;
  static const auto start = clock::now();
  return std::chrono::duration<double>(clock::now() - start).count();
}

std::string utc_timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

MetricsLog::MetricsLog(const std::string& path) { open(path); }

MetricsLog::~MetricsLog() {
  if (f_) std::fclose(f_);
}

void MetricsLog::open(const std::string& path) {
  if (f_) std::fclose(f_);
  path_ = path;
  f_ = std::fopen(path.c_str(), "a");
  if (!f_) throw UserError("cannot open '" + path + "' for appending", "check that the run directory is writable");
}

void MetricsLog::write(nlohmann::json event) {
  if (!f_) return;
  if (!event.contains("time")) event["time"] = utc_timestamp();
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    throw UserError("writing '" + path_ + "' failed", "the disk may be full");
}

}  // namespace ptft
