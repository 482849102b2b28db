#include "ptft/serve/api_server.h"

#include <httplib.h>
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
#include "ptft/serve/openai_response.h"

namespace ptft {
namespace {

// Threads beyond one per queued request and the running one: /health, /v1/models and refusals
// stay answered while the queue is full.
constexpr size_t kSpareThreads = 4;

// cpp-httplib's server with a stop that also works before listening has begun
// (httplib::Server::stop() does nothing until then, and run() would then never return).
class HttpServer : public httplib::Server {
 public:
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

  RequestHandler handler;
  HttpServer http;
  std::mutex mu;      // port and stopped
  int port = 0;
  bool stopped = false;
};

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
  const size_t threads = handler.options().max_queue + 1 + kSpareThreads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(handler.options().max_body_bytes);
  http.set_tcp_nodelay(true);  // SSE events go out as they are written
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

ApiServer::~ApiServer() { stop(); }

void ApiServer::bind() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->port == 0) impl_->bind_locked();
}

int ApiServer::bound_port() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->port;
}

void ApiServer::run() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    if (impl_->port == 0) impl_->bind_locked();
  }
  std::signal(SIGPIPE, SIG_IGN);
  const bool ok = impl_->http.listen_after_bind();
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!ok && !impl_->stopped)
    throw UserError("serve: the server stopped accepting connections on " + impl_->handler.options().host + ":" +
                        std::to_string(impl_->port) + " unexpectedly",
                    "see the messages above; restart ptft serve");
}

void ApiServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stopped = true;
  impl_->http.close_listener();
}

const RequestHandler& ApiServer::handler() const { return impl_->handler; }

}  // namespace ptft
