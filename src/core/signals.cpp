#include "ptft/core/signals.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace ptft {
namespace {
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  if (g_signal.load() != 0 && sig == SIGINT) {
    const char msg[] = "\nsecond interrupt: exiting without a checkpoint\n";
    (void)!::write(2, msg, sizeof msg - 1);
    _exit(130);
  }
  g_signal.store(sig);
}
}  // namespace

void StopSignals::install() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}
bool StopSignals::requested() { return g_signal.load() != 0; }
int StopSignals::signal() { return g_signal.load(); }
void StopSignals::reset() { g_signal.store(0); }
void StopSignals::raise_for_test(int sig) { g_signal.store(sig); }

}  // namespace ptft
