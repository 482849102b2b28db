// ptft/serve/serve_options.h — how `ptft serve` listens and what it accepts.
//
//   ServeOptions o;  o.port = 0;  o.api_key = "sk-local";  o.validate();
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ptft {

struct ServeOptions {
  std::string host = "127.0.0.1";   // the address to listen on (0.0.0.0: every interface)
  int port = 8080;                  // 0: a free port chosen at bind (ApiServer::bound_port())
  std::string api_key;              // "": no authentication; else /v1/* needs "Authorization: Bearer KEY"
  size_t max_body_bytes = 1 << 20;  // a larger request body is refused (413)
  int64_t max_tokens_limit = 2048;  // max_tokens per request at most, and its default
  size_t max_queue = 16;            // requests waiting for the engine beyond the one it runs; more: 503
  size_t max_connections = 512;     // open connections at most (an idle one makes room; else new ones wait)
  int request_timeout_s = 10;       // a request must arrive whole within this of its first byte (else 408)
  bool log_requests = false;        // one line per answered request on stderr (server errors always)
  // UserError naming the option and the allowed range.
  void validate() const;
};

}  // namespace ptft
