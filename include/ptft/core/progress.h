// ptft/core/progress.h — the progress line of a training run.
//
// On a terminal: one line rewritten in place (step/total, loss, lr, throughput, ETA), at most
// 5 times a second. Otherwise (CI, pipes, log files): a plain line every `every` steps.
//
//   Progress p(total_steps, /*every=*/10);
//   p.update(step, "loss 2.31 | lr 3.0e-04 | 1520 tok/s");
//   p.finish();
#pragma once

#include <string>

namespace ptft {

class Progress {
 public:
  Progress(long total, long every, bool tty);
  Progress(long total, long every);  // tty = isatty(stderr)
  // `fields` is the text after "step N/T"; ETA is appended from the observed step rate.
  void update(long step, const std::string& fields);
  // Prints a message on its own line without breaking the progress line.
  void message(const std::string& text);
  void finish();
  static std::string format_duration(double seconds);  // "1h02m", "3m05s", "42s"

 private:
  long total_, every_;
  bool tty_;
  bool line_open_ = false;
  double start_time_;
  long start_step_ = -1;
  double last_draw_ = -1;
};

}  // namespace ptft
