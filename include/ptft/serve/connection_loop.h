// ptft/serve/connection_loop.h — the connections of `ptft serve`. One thread waits on all of them
// (epoll) and reads each request whole (http_framing.h) before a worker thread serves it, so a
// client that sends slowly, half a request or nothing holds a buffer and a socket, never a thread;
// idle keep-alive connections wait in the same loop. Limits: at most max_connections open (for a
// new one the longest-idle connection between requests is closed; with none, new clients wait in
// the kernel's listen backlog until one closes), a request must arrive whole within
// request_timeout of its first byte (else 408), a connection with no request in progress closes
// after keep_alive_timeout.
//
//   ConnectionLoop loop(listen_fd, limits, /*workers=*/21, serve, timeout_reply);
//   std::thread t([&] { loop.run(); });   // returns after stop(), once the requests read are answered
//   loop.stop();                          // any thread; not async-signal-safe
//
// Linux only (epoll, eventfd). The loop does not close listen_fd; it sets it non-blocking.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ptft/serve/http_framing.h"

namespace ptft {

struct ConnectionLimits {
  size_t max_connections = 512;
  std::chrono::milliseconds request_timeout{10000};    // first byte of a request to its last
  std::chrono::milliseconds keep_alive_timeout{5000};  // a connection with no request in progress
  std::chrono::milliseconds linger_timeout{2000};      // reading what a closing client still sends
  size_t max_requests_per_connection = 1000;
  HttpFramingLimits framing;
};

struct PeerAddress {
  std::string ip;
  int port = 0;
};

// One request for a worker to answer on `fd` (non-blocking; the worker waits for POLLOUT itself).
struct ClientRequest {
  int fd = -1;
  std::string_view bytes;  // complete: exactly the request; else every byte received (unframable)
  bool complete = false;   // false: the framing was unknowable (http_framing.h); answer, then close
  bool too_large = false;  // not complete because the body is over the limit: answer 413
  bool last = false;       // the connection closes after this answer: say "Connection: close"
  PeerAddress remote, local;
};

struct ServeResult {
  size_t consumed = 0;      // bytes of `bytes` the answer read (keep-alive needs all of a complete one)
  bool keep_alive = false;  // the answer left the connection usable
};

// Writes the whole answer to req.fd (blocking the worker, not the loop). May throw: the connection
// is then closed.
using ServeFn = std::function<ServeResult(const ClientRequest& req)>;
// The complete HTTP response (status line to body, "Connection: close") the loop sends itself when
// a request has not arrived whole within request_timeout: a 408.
using TimeoutReplyFn = std::function<std::string()>;

class ConnectionLoop {
 public:
  ConnectionLoop(int listen_fd, ConnectionLimits limits, size_t workers, ServeFn serve, TimeoutReplyFn timeout_reply);
  ~ConnectionLoop();
  ConnectionLoop(const ConnectionLoop&) = delete;
  ConnectionLoop& operator=(const ConnectionLoop&) = delete;

  // Accepts and serves until stop(). Then stops accepting, closes the connections with no complete
  // request, answers the requests already read and returns. std::runtime_error if epoll fails.
  void run();
  void stop();
  // Connections open now (for tests and logs).
  size_t open_connections() const { return open_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<size_t> open_{0};
};

}  // namespace ptft
