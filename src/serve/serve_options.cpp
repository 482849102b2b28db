#include "ptft/serve/serve_options.h"

#include "ptft/core/error.h"

namespace ptft {

namespace {
constexpr size_t kMaxQueue = 1024;  // every waiting request holds a server thread
constexpr size_t kMaxConnections = 65536;
constexpr int kMaxRequestTimeout = 3600;
}

void ServeOptions::validate() const {
  if (host.empty()) throw UserError("serve: the host is empty", "pass --host 127.0.0.1 (or 0.0.0.0 for every interface)");
  if (port < 0 || port > 65535)
    throw UserError("serve: port " + std::to_string(port) + " is out of range", "pass --port in 1..65535, or 0 for a free one");
  if (max_body_bytes < 1) throw UserError("serve: the request body limit must be at least 1 byte");
  if (max_tokens_limit < 1)
    throw UserError("serve: the max_tokens limit must be at least 1, got " + std::to_string(max_tokens_limit));
  if (max_queue > kMaxQueue)
    throw UserError("serve: the queue limit " + std::to_string(max_queue) + " is over " + std::to_string(kMaxQueue),
                    "every waiting request holds a thread: use at most " + std::to_string(kMaxQueue));
  if (max_connections < 1 || max_connections > kMaxConnections)
    throw UserError("serve: the connection limit " + std::to_string(max_connections) + " is out of range",
                    "pass --max-connections in 1.." + std::to_string(kMaxConnections));
  if (request_timeout_s < 1 || request_timeout_s > kMaxRequestTimeout)
    throw UserError("serve: the request timeout " + std::to_string(request_timeout_s) + " s is out of range",
                    "pass --request-timeout in 1.." + std::to_string(kMaxRequestTimeout) + " seconds");
}

}  // namespace ptft
