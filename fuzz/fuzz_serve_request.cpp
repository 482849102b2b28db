// fuzz_serve_request — libFuzzer target for `ptft serve`'s request handling without sockets:
// ptft::RequestHandler::handle() (routing, API key, body limit, OpenAI parsing, queue, replies,
// streams) on the serve tests' deterministic EchoEngine, and the pure parsers of
// openai_request.h on the body.
//
// The handler never throws; a reply of 500 (an exception the server did not expect), a status
// outside the documented set, a non-stream body that is not JSON, or a stream event that is not
// an SSE "data:" line is a crash. The parsers may only throw ApiError (400). Every sanitizer
// report, a hang (-timeout) and runaway memory (-rss_limit_mb) are crashes too.
//
// Input layout: byte 0 picks the method, byte 1 the path (or "literal": the path is the text up
// to the first '\n'), byte 2 the Authorization header and the engine's switches; the rest is
// the body.
//
//   build-fuzz/fuzz_serve_request -max_total_time=120 /tmp/serve-corpus tests/serve/fuzz_corpus_serve_request
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/serve/api_error.h"
#include "ptft/serve/openai_request.h"
#include "ptft/serve/request_handler.h"
#include "../tests/serve/echo_engine.h"  // the serve tests' deterministic engine

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_serve_request: %s: %s\n", what, detail.c_str());
  std::abort();
}

const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "", "post"};
const char* const kPaths[] = {"/health", "/v1/models", "/v1/models/echo-test", "/v1/completions",
                              "/v1/chat/completions", "/v1", "/v1/models/"};
constexpr size_t kLiteralPath = sizeof(kPaths) / sizeof(kPaths[0]);

bool documented_status(int s) {
  return s == 200 || s == 400 || s == 401 || s == 404 || s == 405 || s == 413 || s == 503;
}

void check_parsers(const std::string& body) {
  try {
    ptft::parse_completion_request(body, 64);
  } catch (const ptft::ApiError& e) {
    if (e.status() != 400) fail("parse_completion_request: status", std::to_string(e.status()));
  }
  try {
    ptft::parse_chat_request(body, 64);
  } catch (const ptft::ApiError& e) {
    if (e.status() != 400) fail("parse_chat_request: status", std::to_string(e.status()));
  }
}

void check_handler(const uint8_t* data, size_t size) {
  if (size < 3) return;
  ptft::HttpRequest req;
  req.method = kMethods[data[0] % (sizeof(kMethods) / sizeof(kMethods[0]))];
  std::string rest(reinterpret_cast<const char*>(data + 3), size - 3);
  const size_t path_pick = data[1] % (kLiteralPath + 1);
  if (path_pick == kLiteralPath) {
    const size_t nl = rest.find('\n');
    req.path = rest.substr(0, nl);
    rest = nl == std::string::npos ? "" : rest.substr(nl + 1);
  } else {
    req.path = kPaths[path_pick];
  }
  const uint8_t flags = data[2];
  switch (flags & 3) {
    case 0: break;
    case 1: req.headers["authorization"] = "Bearer k"; break;
    case 2: req.headers["authorization"] = "Bearer x"; break;
    case 3: req.headers["authorization"] = "k"; break;
  }
  req.body = std::move(rest);
  check_parsers(req.body);

  ptft::testing::EchoEngine engine;  // bounded: echoes the prompt's words once, context 64 words
  engine.chat = (flags & 4) == 0;
  ptft::ServeOptions options;
  options.api_key = (flags & 8) ? "" : "k";
  options.max_body_bytes = 2048;
  options.max_tokens_limit = 64;
  options.max_queue = 1;
  ptft::RequestHandler handler(engine, options);
  // Cancel the stream after this many events (0: accept everything).
  const int cancel_after = (flags >> 4) & 3;

  const ptft::HttpReply reply = handler.handle(req);
  if (!documented_status(reply.status)) fail("undocumented status", std::to_string(reply.status) + " " + reply.body);
  if (reply.stream) {
    if (reply.status != 200 || !reply.body.empty()) fail("stream with a status or body", reply.body);
    int events = 0;
    reply.stream([&](const std::string& event) {
      if (event.compare(0, 6, "data: ") != 0 || event.size() < 8 || event.compare(event.size() - 2, 2, "\n\n") != 0)
        fail("not an SSE event", event);
      if (event.find("internal server error") != std::string::npos) fail("internal error in a stream", event);
      ++events;
      return cancel_after == 0 || events < cancel_after;
    });
    return;
  }
  if (!nlohmann::json::accept(reply.body)) fail("reply body is not JSON", reply.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    check_handler(data, size);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
