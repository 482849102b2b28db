// ptft/core/signals.h — SIGINT/SIGTERM ask the trainer to stop at the next step boundary
// (it then writes a checkpoint and exits 0). A second SIGINT exits at once.
//
//   StopSignals::install();
//   while (...) { if (StopSignals::requested()) { save(); break; } }
#pragma once

namespace ptft {

struct StopSignals {
  static void install();
  static bool requested();
  static int signal();      // the signal number that asked, 0 if none
  static void reset();
  static void raise_for_test(int sig);
};

}  // namespace ptft
