// ptft/serve/signal_stop.h — `ptft serve` until SIGINT or SIGTERM: the request in progress is
// answered, then the server returns (the command exits 0). A second SIGINT exits at once
// (core/signals.h).
//
// The signal handler only sets StopSignals' flag (a handler may not take locks or join
// threads); a watcher thread sees the flag within kSignalPollMs and calls ApiServer::stop().
//
//   ApiServer server(engine, options);
//   server.bind();
//   run_until_signal(server);   // returns after SIGINT/SIGTERM
#pragma once

#include "ptft/serve/api_server.h"

namespace ptft {

inline constexpr int kSignalPollMs = 100;

// Installs StopSignals, runs `server`, stops it when a signal arrives. Returns the signal
// number that stopped it (0: stopped otherwise). Exceptions of run() propagate.
int run_until_signal(ApiServer& server);

}  // namespace ptft
