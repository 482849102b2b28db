// ptft/serve/request_handler.h — one HTTP request in, one reply out, without sockets: routing,
// authentication, the body limit, OpenAI request parsing, the engine queue and generation.
// ApiServer (api_server.h) only copies requests and replies between this and cpp-httplib, so
// every rule here can be tested (and fuzzed) by calling handle().
//
// Routes: GET /health (no key needed), GET /v1/models, GET /v1/models/{id},
// POST /v1/completions, POST /v1/chat/completions. Errors are OpenAI error bodies
// (api_error.h): 400 bad request (param names the field), 401 missing or wrong key
// (code invalid_api_key), 404 unknown path or model, 405 wrong method, 413 body over the
// limit, 503 queue full (type server_error), 500 anything unexpected.
//
// A streaming request gets a reply with `stream` set: the status and headers are final, and
// calling stream(write) generates and writes the SSE events; write returning false (the client
// is gone) cancels generation. The reply holds the engine (its queue turn) until its stream has
// run, or until it is destroyed unrun; run it once.
//
//   RequestHandler h(engine, options);
//   HttpReply r = h.handle({"POST", "/v1/completions", {{"authorization", "Bearer k"}}, body});
//   if (r.stream) r.stream([&](const std::string& event) { out += event; return true; });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "ptft/serve/engine.h"
#include "ptft/serve/engine_queue.h"
#include "ptft/serve/serve_options.h"

namespace ptft {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // without the query string
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// Writes one piece of a streamed body; false when the client is gone.
using ChunkWriter = std::function<bool(const std::string& data)>;

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Set for a streamed reply (content_type text/event-stream, body empty).
  std::function<void(const ChunkWriter& write)> stream;
};

class RequestHandler {
 public:
  // `engine` must outlive the handler and every reply it returns.
  RequestHandler(GenerationEngine& engine, ServeOptions options);
  // Never throws: every failure is an error reply.
  HttpReply handle(const HttpRequest& request);
  const EngineQueue& queue() const { return queue_; }
  const ServeOptions& options() const { return options_; }

 private:
  HttpReply route(const HttpRequest& request);
  void authenticate(const HttpRequest& request) const;
  HttpReply models(const std::string& path) const;
  HttpReply completions(const std::string& body);
  HttpReply chat_completions(const std::string& body);
  EngineQueue::Turn enter_queue();
  void check_prompt_fits(const std::string& prompt, const std::string& param) const;

  GenerationEngine& engine_;
  ServeOptions options_;
  EngineQueue queue_;
  int64_t created_;  // when the server started: the model's "created"
};

}  // namespace ptft
