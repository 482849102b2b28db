// Tests for ptft/serve/openai_response.h: the shapes OpenAI clients read, and SSE framing.
#include "ptft/serve/openai_response.h"

#include <gtest/gtest.h>

#include <set>

#include "ptft/serve/api_error.h"

namespace ptft {
namespace {

using nlohmann::json;

const ResponseMeta kMeta{"cmpl-test", 1700000000, "m"};

GenerationOutcome outcome() {
  GenerationOutcome o;
  o.text = " hello";
  o.prompt_tokens = 5;
  o.completion_tokens = 7;
  o.finish_reason = "length";
  return o;
}

TEST(OpenAiResponse, CompletionObject) {
  const json r = completion_response(kMeta, outcome());
  EXPECT_EQ(r, json::parse(R"({"id": "cmpl-test", "object": "text_completion", "created": 1700000000, "model": "m",
      "choices": [{"text": " hello", "index": 0, "logprobs": null, "finish_reason": "length"}],
      "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}})"));
}

TEST(OpenAiResponse, ChatObject) {
  const json r = chat_response({"chatcmpl-x", 1, "m"}, outcome());
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"], json::parse(R"({"role": "assistant", "content": " hello"})"));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["choices"][0]["index"], 0);
  EXPECT_EQ(r["usage"]["total_tokens"], 12);
}

TEST(OpenAiResponse, ChunksCarryFinishReasonOnlyAtTheEnd) {
  const json c = completion_chunk(kMeta, " a", "");
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["choices"][0]["text"], " a");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(completion_chunk(kMeta, "", "stop")["choices"][0]["finish_reason"], "stop");

  const json role = chat_chunk(kMeta, {{"role", "assistant"}, {"content", ""}}, "");
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  const json last = chat_chunk(kMeta, json::object(), "stop");
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");

  const json usage = usage_chunk(kMeta, "chat.completion.chunk", outcome());
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 7);
}

TEST(OpenAiResponse, SseFramingAndInvalidUtf8) {
  EXPECT_EQ(sse_event({{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(std::string(kSseDone), "data: [DONE]\n\n");
  // A model may emit bytes that are not UTF-8: replaced, never an exception.
  EXPECT_EQ(sse_event(json("\xff")), "data: \"\xef\xbf\xbd\"\n\n");
}

TEST(OpenAiResponse, IdsAreRandomWithThePrefix) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const ResponseMeta m = new_response_meta("chatcmpl-", "m");
    EXPECT_EQ(m.id.rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(m.id.size(), std::string("chatcmpl-").size() + 24);
    EXPECT_GT(m.created, 1600000000);
    ids.insert(m.id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(OpenAiResponse, ModelsListAndErrorBody) {
  EXPECT_EQ(models_list("m", 5), json::parse(R"({"object": "list",
      "data": [{"id": "m", "object": "model", "created": 5, "owned_by": "ptft"}]})"));
  EXPECT_EQ(ApiError(400, "bad", "top_p").body(), json::parse(R"({"error": {"message": "bad",
      "type": "invalid_request_error", "param": "top_p", "code": null}})"));
  EXPECT_EQ(ApiError(503, "busy", "", "server_busy", "server_error").body()["error"]["param"], nullptr);
}

}  // namespace
}  // namespace ptft
