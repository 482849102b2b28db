#include "ptft/serve/signal_stop.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ptft/core/signals.h"

namespace ptft {

int run_until_signal(ApiServer& server) {
  StopSignals::install();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  // Polls the flag: a condition variable cannot be notified from a signal handler.
  std::thread watcher([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!done) {
      if (StopSignals::requested()) {
        server.stop();
        return;
      }
      cv.wait_for(lock, std::chrono::milliseconds(kSignalPollMs));
    }
  });
  struct Join {  // the watcher ends whether run() returns or throws
    std::mutex& mu;
    std::condition_variable& cv;
    bool& done;
    std::thread& t;
    ~Join() {
      {
        std::lock_guard<std::mutex> lock(mu);
        done = true;
      }
      cv.notify_all();
      t.join();
    }
  } join{mu, cv, done, watcher};
  server.run();
  return StopSignals::signal();
}

}  // namespace ptft
