#include "ptft/core/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
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

namespace {

// Cuts a last line without its '\n' (a write a full disk or a kill cut short) off the file open
// as `fd`, so that the next event starts a line of its own and every line stays JSON.
void drop_torn_tail(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) return;
  off_t end = st.st_size;
  char buf[4096];
  while (end > 0) {
    const off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - start), start);
    if (n <= 0) return;
    for (ssize_t i = n - 1; i >= 0; --i)
      if (buf[i] == '\n') {
        if (start + i + 1 < st.st_size) (void)!::ftruncate(fd, start + i + 1);
        return;
      }
    end = start;
  }
  (void)!::ftruncate(fd, 0);  // one torn line and nothing before it
}

}  // namespace

void MetricsLog::open(const std::string& path) {
  if (f_) std::fclose(f_);
  path_ = path;
  f_ = std::fopen(path.c_str(), "a");
  if (!f_) throw UserError("cannot open '" + path + "' for appending", "check that the run directory is writable");
  drop_torn_tail(::fileno(f_));
}

// One write(2) per event, outside stdio's buffer; a line the disk took only part of is cut off
// again, so metrics.jsonl never holds half an event.
void MetricsLog::write(nlohmann::json event) {
  if (!f_) return;
  if (!event.contains("time")) event["time"] = utc_timestamp();
  const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const int fd = ::fileno(f_);
  struct stat st {};
  const off_t before = ::fstat(fd, &st) == 0 ? st.st_size : -1;
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      if (before >= 0) (void)!::ftruncate(fd, before);
      throw UserError("writing '" + path_ + "' failed: " + why,
                      "the disk may be full; the events written before are intact, free space and resume the run");
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace ptft
