// ptft/serve/api_server.h — the OpenAI-compatible HTTP server of `ptft serve`. One epoll thread
// holds the connections and reads each request whole (connection_loop.h, http_framing.h); a pool of
// max_queue + 5 threads then has cpp-httplib parse, route and write it, the answer coming from
// RequestHandler (request_handler.h). This class binds, runs both, streams SSE replies with
// chunked transfer, and stops gracefully.
//
//   ApiServer server(engine, options);   // UserError for invalid options
//   server.bind();                       // UserError naming host:port when it cannot listen
//   std::cerr << "listening on port " << server.bound_port() << "\n";
//   server.run();                        // blocks until stop(); the running request finishes first
//
// stop() is thread-safe but not async-signal-safe: from signals use run_until_signal()
// (signal_stop.h), which calls it from a watcher thread. run() ignores SIGPIPE for the process
// (a client that hangs up mid-stream must not kill the server; the failed write cancels the
// generation instead).
#pragma once

#include <memory>

#include "ptft/serve/engine.h"
#include "ptft/serve/request_handler.h"
#include "ptft/serve/serve_options.h"

namespace ptft {

class ApiServer {
 public:
  ApiServer(GenerationEngine& engine, ServeOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Listens on options.host:options.port. UserError when the address cannot be bound (port in
  // use, address not on this machine), with the fix (--port, --host).
  void bind();
  // The port bound (the chosen one when options.port is 0); 0 before bind().
  int bound_port() const;
  // Binds if not yet bound, then serves until stop(). Requests already accepted are answered
  // before it returns.
  void run();
  // Closes the listening socket (new connections are refused); run() returns once the requests
  // in progress are done. Idempotent; also before run().
  void stop();
  const RequestHandler& handler() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ptft
