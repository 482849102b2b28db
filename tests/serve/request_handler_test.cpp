// Tests for ptft/serve/request_handler.h without sockets: routing, auth, limits, errors,
// generation and streams through handle(), with the EchoEngine double.
#include "ptft/serve/request_handler.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "echo_engine.h"

namespace ptft {
namespace {

using nlohmann::json;
using testing::EchoEngine;

ServeOptions options() {
  ServeOptions o;
  o.max_tokens_limit = 50;
  o.max_body_bytes = 4096;
  return o;
}

HttpRequest post(const std::string& path, const std::string& body) { return {"POST", path, {}, body}; }

// The streamed body of a reply, as a client would receive it.
std::string drain(const HttpReply& r) {
  std::string out;
  r.stream([&](const std::string& s) {
    out += s;
    return true;
  });
  return out;
}

// The JSON objects of an SSE body; the last element is "[DONE]" when the stream ended with it.
std::vector<json> sse_events(const std::string& body) {
  std::vector<json> events;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in " << body;
    EXPECT_EQ(body.compare(pos, 6, "data: "), 0) << body.substr(pos);
    const std::string data = body.substr(pos + 6, end - pos - 6);
    events.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
    pos = end + 2;
  }
  return events;
}

void expect_error(const HttpReply& r, int status, const std::string& says, const json& param = nullptr) {
  EXPECT_EQ(r.status, status) << r.body;
  const json j = json::parse(r.body);
  EXPECT_NE(j["error"]["message"].get<std::string>().find(says), std::string::npos) << r.body;
  EXPECT_EQ(j["error"]["param"], param) << r.body;
  EXPECT_TRUE(j["error"].contains("code"));
  EXPECT_TRUE(j["error"]["type"].is_string());
}

TEST(ServeRequestHandler, CompletionEchoesThePromptWithUsage) {
  EchoEngine e;
  RequestHandler h(e, options());
  const HttpReply r = h.handle(post("/v1/completions", R"({"prompt": "a b c", "max_tokens": 2, "seed": 3})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.stream);
  const json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["model"], "echo-test");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["text"], " a b");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"], json::parse(R"({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})"));
  EXPECT_EQ(e.last_params.seed, 3u);
}

TEST(ServeRequestHandler, ChatRendersTheConversationAndHonoursStop) {
  EchoEngine e;
  RequestHandler h(e, options());
  const HttpReply r = h.handle(post("/v1/chat/completions",
                                    R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "x y"}], "stop": "y"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "echo-test");  // any requested model is answered by the served one
  EXPECT_EQ(j["choices"][0]["message"]["content"], " user: x");  // "user: x y\nassistant:" up to "y"
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
}

TEST(ServeRequestHandler, CompletionStreamFraming) {
  EchoEngine e;
  RequestHandler h(e, options());
  const HttpReply r = h.handle(post("/v1/completions", R"({"prompt": "a b", "stream": true})"));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(r.content_type, "text/event-stream");
  const std::vector<json> ev = sse_events(drain(r));
  ASSERT_EQ(ev.size(), 4u);  // " a", " b", finish, [DONE]
  EXPECT_EQ(ev[0]["choices"][0]["text"], " a");
  EXPECT_TRUE(ev[0]["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(ev[1]["choices"][0]["text"], " b");
  EXPECT_EQ(ev[2]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(ev[2]["id"], ev[0]["id"]);
  EXPECT_EQ(ev[3], "[DONE]");
}

TEST(ServeRequestHandler, ChatStreamRoleFirstFinishLastUsageOnRequest) {
  EchoEngine e;
  RequestHandler h(e, options());
  const HttpReply r = h.handle(post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "q"}],
      "stream": true, "stream_options": {"include_usage": true}})"));
  ASSERT_TRUE(r.stream);
  const std::vector<json> ev = sse_events(drain(r));
  // role, " user:", " q", " assistant:", finish, usage, [DONE]
  ASSERT_EQ(ev.size(), 7u);
  EXPECT_EQ(ev[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(ev[0]["choices"][0]["delta"], json::parse(R"({"role": "assistant", "content": ""})"));
  EXPECT_EQ(ev[2]["choices"][0]["delta"], json::parse(R"({"content": " q"})"));
  EXPECT_EQ(ev[4]["choices"][0]["delta"], json::object());
  EXPECT_EQ(ev[4]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(ev[5]["choices"], json::array());
  EXPECT_EQ(ev[5]["usage"]["completion_tokens"], 3);
  EXPECT_EQ(ev[6], "[DONE]");
}

TEST(ServeRequestHandler, AStreamWhoseClientIsGoneCancelsTheEngine) {
  EchoEngine e;
  e.repeat = 1000;
  RequestHandler h(e, options());
  const HttpReply r = h.handle(post("/v1/completions", R"({"prompt": "w", "stream": true})"));
  int writes = 0;
  r.stream([&](const std::string&) { return ++writes < 3; });
  EXPECT_EQ(writes, 3);
  EXPECT_TRUE(e.cancelled);
}

TEST(ServeRequestHandler, HealthModelsAndUnknownPaths) {
  EchoEngine e;
  RequestHandler h(e, options());
  EXPECT_EQ(json::parse(h.handle({"GET", "/health", {}, ""}).body), json::parse(R"({"status": "ok"})"));
  const HttpReply m = h.handle({"GET", "/v1/models", {}, ""});
  EXPECT_EQ(json::parse(m.body)["data"][0]["id"], "echo-test");
  EXPECT_EQ(json::parse(h.handle({"GET", "/v1/models/echo-test", {}, ""}).body)["object"], "model");
  expect_error(h.handle({"GET", "/v1/models/gpt-4", {}, ""}), 404, "does not exist", "model");
  expect_error(h.handle({"GET", "/v1/engines", {}, ""}), 404, "Invalid URL (GET /v1/engines)");
  expect_error(h.handle({"GET", "/v1/completions", {}, ""}), 405, "use POST");
  expect_error(h.handle({"DELETE", "/v1/models", {}, ""}), 405, "use GET");
}

TEST(ServeRequestHandler, ApiKeyGuardsV1ButNotHealth) {
  EchoEngine e;
  ServeOptions o = options();
  o.api_key = "sk-secret";
  RequestHandler h(e, o);
  const HttpReply missing = h.handle({"GET", "/v1/models", {}, ""});
  expect_error(missing, 401, "missing API key");
  EXPECT_EQ(json::parse(missing.body)["error"]["code"], "invalid_api_key");
  expect_error(h.handle({"GET", "/v1/models", {{"authorization", "Bearer sk-wrong"}}, ""}), 401, "incorrect API key");
  expect_error(h.handle({"GET", "/v1/models", {{"authorization", "sk-secret"}}, ""}), 401, "incorrect API key");
  expect_error(h.handle({"GET", "/v1/nothing", {}, ""}), 401, "missing API key");  // no probing without a key
  EXPECT_EQ(h.handle({"GET", "/v1/models", {{"authorization", "Bearer sk-secret"}}, ""}).status, 200);
  EXPECT_EQ(h.handle({"GET", "/health", {}, ""}).status, 200);
}

TEST(ServeRequestHandler, BodyLimitBadRequestsAndTheContext) {
  EchoEngine e;
  e.context = 4;
  RequestHandler h(e, options());
  expect_error(h.handle(post("/v1/completions", std::string(5000, ' '))), 413, "at most 4096");
  expect_error(h.handle(post("/v1/completions", R"({"prompt": "x", "top_p": 0})")), 400, "(0, 1]", "top_p");
  const HttpReply longp = h.handle(post("/v1/completions", R"({"prompt": "a b c d", "stream": true})"));
  expect_error(longp, 400, "the prompt is 4 tokens; the model's context is 4 tokens", "prompt");
  EXPECT_FALSE(longp.stream);  // refused before any stream starts
  EXPECT_EQ(json::parse(longp.body)["error"]["code"], "context_length_exceeded");
  expect_error(h.handle(post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "a b c"}]})")), 400,
               "context is 4 tokens", "messages");
  EXPECT_EQ(e.started, 0);
}

TEST(ServeRequestHandler, ChatWithoutTemplateTemplateErrorsAndEngineFailures) {
  EchoEngine e;
  e.chat = false;
  RequestHandler h(e, options());
  const std::string chat = R"({"messages": [{"role": "user", "content": "x"}]})";
  expect_error(h.handle(post("/v1/chat/completions", chat)), 400, "has no chat template", "messages");

  e.chat = true;
  expect_error(h.handle(post("/v1/chat/completions", R"({"messages": [{"role": "assistant", "content": "x"}]})")), 400,
               "must not start with an assistant message", "messages");

  e.throw_internal = true;
  const HttpReply r = h.handle(post("/v1/completions", R"({"prompt": "x"})"));
  expect_error(r, 500, "engine exploded");
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "server_error");
  // In a stream the failure arrives as an error event; the queue is free afterwards.
  const HttpReply s = h.handle(post("/v1/completions", R"({"prompt": "x", "stream": true})"));
  const std::vector<json> ev = sse_events(drain(s));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["error"]["type"], "server_error");
  e.throw_internal = false;
  EXPECT_EQ(h.handle(post("/v1/completions", R"({"prompt": "x"})")).status, 200);
}

TEST(ServeRequestHandler, AStreamReplyHoldsTheEngineUntilDestroyed) {
  EchoEngine e;
  ServeOptions o = options();
  o.max_queue = 0;
  RequestHandler h(e, o);
  {
    const HttpReply held = h.handle(post("/v1/completions", R"({"prompt": "x", "stream": true})"));
    const HttpReply busy = h.handle(post("/v1/completions", R"({"prompt": "x"})"));
    expect_error(busy, 503, "the server is busy");
    EXPECT_EQ(json::parse(busy.body)["error"]["type"], "server_error");
  }
  EXPECT_EQ(h.handle(post("/v1/completions", R"({"prompt": "x"})")).status, 200);
}

}  // namespace
}  // namespace ptft
