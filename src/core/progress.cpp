#include "ptft/core/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "ptft/core/log.h"

namespace ptft {

Progress::Progress(long total, long every, bool tty)
    : total_(total), every_(every > 0 ? every : 1), tty_(tty), start_time_(now_seconds()) {}
Progress::Progress(long total, long every) : Progress(total, every, ::isatty(2) != 0) {}

std::string Progress::format_duration(double s) {
  if (s < 0) s = 0;
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

void Progress::update(long step, const std::string& fields) {
  double now = now_seconds();
  if (start_step_ < 0) {
    start_step_ = step - 1;
    start_time_ = now;
  }
  bool last = step >= total_;
  if (tty_) {
    if (!last && last_draw_ >= 0 && now - last_draw_ < 0.2) return;
  } else if (!last && step % every_ != 0) {
    return;
  }
  last_draw_ = now;
  std::string eta;
  long done = step - start_step_;
  if (done > 0 && now > start_time_) {
    double rate = done / (now - start_time_);
    eta = " | ETA " + format_duration((total_ - step) / rate);
  }
  std::string line = "step " + std::to_string(step) + "/" + std::to_string(total_) + " | " + fields + eta;
  if (tty_) {
    std::cerr << "\r\033[K" << line << std::flush;
    line_open_ = true;
  } else {
    std::cerr << line << "\n" << std::flush;
  }
}

void Progress::message(const std::string& text) {
  if (line_open_) std::cerr << "\r\033[K";
  std::cerr << text << "\n" << std::flush;
  line_open_ = false;
}

void Progress::finish() {
  if (line_open_) std::cerr << "\n" << std::flush;
  line_open_ = false;
}

}  // namespace ptft
