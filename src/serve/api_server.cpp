#include "ptft/serve/api_server.h"

#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "ptft/core/error.h"
#include "ptft/core/log.h"
#include "ptft/serve/api_error.h"
#include "ptft/serve/connection_loop.h"
#include "ptft/serve/openai_response.h"

namespace ptft {
namespace {

// Threads beyond one per queued request and the running one: /health, /v1/models and refusals
// stay answered while the queue is full.
constexpr size_t kSpareThreads = 4;
// How long a worker waits for a client to take more of the answer before giving up on it
// (cpp-httplib's default write timeout).
constexpr int kWriteTimeoutMs = 5000;

// cpp-httplib's server, used for its parsing, routing and response writing; ptft's ConnectionLoop
// (connection_loop.h) owns the connections and hands it whole requests.
class HttpServer : public httplib::Server {
 public:
  int listen_fd() const { return svr_sock_; }
  bool serve(httplib::Stream& strm, bool close_connection, bool& connection_closed) {
    return process_request(strm, close_connection, connection_closed, nullptr);
  }
  void close_listener() {
    const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock == INVALID_SOCKET) return;
    ::shutdown(sock, SHUT_RDWR);  // wakes the accept() of listen_after_bind
    ::close(sock);
  }
  // Debian's libcpp-httplib listens with a backlog of 5: a burst of more simultaneous connects
  // loses SYNs, and those clients wait a second for the retransmission. Linux lets listen() be
  // called again to raise it.
  void raise_backlog() {
    const socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
};

// A request read whole by the ConnectionLoop: reads come from its bytes (never the socket, so
// cpp-httplib cannot block on a slow client), writes go to the socket, waiting for room at most
// kWriteTimeoutMs at a time.
class BufferedStream final : public httplib::Stream {
 public:
  explicit BufferedStream(const ClientRequest& req) : req_(req) {}
  size_t consumed() const { return pos_; }

  bool is_readable() const override { return pos_ < req_.bytes.size(); }
  bool is_writable() const override { return wait_writable(); }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, req_.bytes.size() - pos_);
    std::memcpy(ptr, req_.bytes.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::send(req_.fd, ptr + done, size - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait_writable()) return -1;
      } else {
        return -1;  // the client hung up: the caller stops (a generation is cancelled)
      }
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = req_.remote.ip;
    port = req_.remote.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = req_.local.ip;
    port = req_.local.port;
  }
  socket_t socket() const override { return req_.fd; }

 private:
  bool wait_writable() const {
    pollfd p{req_.fd, POLLOUT, 0};
    int r;
    do r = ::poll(&p, 1, kWriteTimeoutMs);
    while (r < 0 && errno == EINTR);
    return r > 0 && !(p.revents & (POLLERR | POLLHUP | POLLNVAL));
  }
  const ClientRequest& req_;
  size_t pos_ = 0;
};

// An error reply written without cpp-httplib, closing the connection: the loop's own 408 (a
// request not whole within the timeout), and the 413 for a body over the limit, which cpp-httplib
// would read in full when chunked.
std::string raw_error_reply(const ApiError& e) {
  const int status = e.status();
  const char* phrase = status == 408 ? "Request Timeout" : "Payload Too Large";
  const std::string body = json_text(e.body());
  return "HTTP/1.1 " + std::to_string(status) + " " + phrase +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string timeout_reply(const ServeOptions& o) {
  return raw_error_reply(ApiError(408, "the request did not arrive whole within " + std::to_string(o.request_timeout_s) + " s",
                                  "", "request_timeout"));
}

// "POST /v1/completions" from a request's first line, for the log.
std::string request_target(std::string_view bytes) {
  std::string_view line = bytes.substr(0, std::min(bytes.find('\r'), std::min<size_t>(bytes.size(), 200)));
  const size_t second_space = line.find(' ', line.find(' ') + 1);
  return std::string(line.substr(0, second_space));
}

HttpRequest to_request(const httplib::Request& req) {
  HttpRequest r{req.method, req.path, {}, req.body};
  for (const auto& [name, value] : req.headers) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    r.headers.emplace(std::move(key), value);
  }
  return r;
}

void write_reply(HttpReply reply, httplib::Response& res) {
  res.status = reply.status;
  if (!reply.stream) {
    res.set_content(reply.body, reply.content_type);
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(reply.content_type, [stream = std::move(reply.stream)](size_t, httplib::DataSink& sink) {
    stream([&sink](const std::string& data) { return sink.write(data.data(), data.size()); });
    sink.done();
    return true;
  });
}

// Errors cpp-httplib answers itself (body over the limit, malformed HTTP, unrouted methods).
ApiError transport_error(int status) {
  if (status == 413) return ApiError(413, "the request body is over this server's limit", "", "request_too_large");
  if (status == 404) return ApiError(404, "Invalid URL: this server answers GET /health and /v1/...", "", "unknown_url");
  if (status >= 500) return ApiError(status, "internal server error", "", "", "server_error");
  return ApiError(status, "the HTTP request could not be read (status " + std::to_string(status) + ")");
}

}  // namespace

struct ApiServer::Impl {
  Impl(GenerationEngine& engine, ServeOptions options) : handler(engine, std::move(options)) {}
  void bind_locked();
  std::unique_ptr<ConnectionLoop> make_loop();

  RequestHandler handler;
  HttpServer http;
  std::mutex mu;      // port, stopped, loop
  int port = 0;
  bool stopped = false;
  std::unique_ptr<ConnectionLoop> loop;
};

std::unique_ptr<ConnectionLoop> ApiServer::Impl::make_loop() {
  const ServeOptions& o = handler.options();
  ConnectionLimits limits;
  limits.max_connections = o.max_connections;
  limits.request_timeout = std::chrono::seconds(o.request_timeout_s);
  limits.framing.max_body_bytes = o.max_body_bytes;
  const size_t workers = o.max_queue + 1 + kSpareThreads;
  auto serve = [this](const ClientRequest& req) {
    BufferedStream strm(req);
    if (req.too_large) {
      const ApiError e(413, "the request body is over this server's limit of " +
                                std::to_string(handler.options().max_body_bytes) + " bytes", "", "request_too_large");
      const std::string reply = raw_error_reply(e);
      strm.write(reply.data(), reply.size());
      if (handler.options().log_requests) log_info("serve: " + req.remote.ip + " " + request_target(req.bytes) + " 413");
      return ServeResult{};
    }
    bool closed = false;
    const bool ok = http.serve(strm, req.last, closed);
    return ServeResult{strm.consumed(), ok && !closed && !req.last};
  };
  return std::make_unique<ConnectionLoop>(http.listen_fd(), limits, workers, serve,
                                          [&o] { return timeout_reply(o); });
}

void ApiServer::Impl::bind_locked() {
  const ServeOptions& o = handler.options();
  errno = 0;
  const int bound = o.port == 0 ? http.bind_to_any_port(o.host) : (http.bind_to_port(o.host, o.port) ? o.port : -1);
  const int err = errno;
  if (bound <= 0)
    throw UserError("serve: cannot listen on " + o.host + ":" + std::to_string(o.port) +
                        (err ? std::string(" (") + std::strerror(err) + ")" : std::string()),
                    "another process may be using the port: choose another with --port (0 picks a free one), "
                    "or check that --host is an address of this machine");
  http.raise_backlog();
  port = bound;
}

ApiServer::ApiServer(GenerationEngine& engine, ServeOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {
  HttpServer& http = impl_->http;
  RequestHandler& handler = impl_->handler;
  http.set_payload_max_length(handler.options().max_body_bytes);
  // What cpp-httplib's Keep-Alive header announces; the ConnectionLoop enforces both.
  http.set_keep_alive_timeout(ConnectionLimits().keep_alive_timeout.count() / 1000);
  http.set_keep_alive_max_count(ConnectionLimits().max_requests_per_connection);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server on the same
  // port would silently share its connections instead of failing to bind.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const auto route = [&handler](const httplib::Request& req, httplib::Response& res) {
    write_reply(handler.handle(to_request(req)), res);
  };
  http.Get(".*", route);
  http.Post(".*", route);
  http.Put(".*", route);
  http.Patch(".*", route);
  http.Delete(".*", route);
  http.Options(".*", route);
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours: already an error body
    res.set_content(json_text(transport_error(res.status).body()), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  if (handler.options().log_requests)
    http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      log_info("serve: " + req.remote_addr + " " + req.method + " " + req.path + " " + std::to_string(res.status));
    });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(json_text(transport_error(500).body()), "application/json");
  });
}

ApiServer::~ApiServer() {
  stop();
  impl_->http.close_listener();
}

void ApiServer::bind() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->port == 0) impl_->bind_locked();
}

int ApiServer::bound_port() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->port;
}

void ApiServer::run() {
  ConnectionLoop* loop = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    if (impl_->port == 0) impl_->bind_locked();
    impl_->loop = impl_->make_loop();
    loop = impl_->loop.get();
  }
  std::signal(SIGPIPE, SIG_IGN);
  try {
    loop->run();
  } catch (const std::exception& e) {
    throw UserError(std::string(e.what()) + " on " + impl_->handler.options().host + ":" + std::to_string(impl_->port),
                    "see the messages above; restart ptft serve");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->http.close_listener();
}

void ApiServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stopped = true;
  if (impl_->loop) impl_->loop->stop();
}

const RequestHandler& ApiServer::handler() const { return impl_->handler; }

}  // namespace ptft
