// Tests for ptft/serve/openai_request.h: every validation rule gives a 400 naming the field.
#include "ptft/serve/openai_request.h"

#include <gtest/gtest.h>

#include "ptft/serve/api_error.h"

namespace ptft {
namespace {

constexpr int64_t kLimit = 100;

// The ApiError that `parse` throws for `body`.
template <class Parse>
ApiError error_of(Parse parse, const std::string& body) {
  try {
    parse(body, kLimit);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << body;
  return ApiError(0, "");
}
ApiError completion_error(const std::string& body) { return error_of(parse_completion_request, body); }
ApiError chat_error(const std::string& body) { return error_of(parse_chat_request, body); }

void expect_rejected(const ApiError& e, const std::string& param, const std::string& says) {
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.param(), param);
  EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  EXPECT_EQ(e.body()["error"]["type"], "invalid_request_error");
}

TEST(OpenAiRequest, CompletionDefaultsAndEveryField) {
  CompletionRequest d = parse_completion_request(R"({"prompt": "hi"})", kLimit);
  EXPECT_EQ(d.prompt, "hi");
  EXPECT_EQ(d.params.max_tokens, kLimit);
  EXPECT_EQ(d.params.temperature, 1.0);
  EXPECT_EQ(d.params.top_p, 1.0);
  EXPECT_FALSE(d.seed_given);
  EXPECT_FALSE(d.stream);
  EXPECT_TRUE(d.params.stop.empty());

  CompletionRequest r = parse_completion_request(
      R"({"model": "anything", "prompt": ["one"], "max_tokens": 7, "temperature": 0, "top_p": 0.5,
          "stop": ["a", "b"], "seed": 42, "stream": true, "stream_options": {"include_usage": true}, "n": 1,
          "user": "ignored", "some_future_field": {"x": 1}})",
      kLimit);
  EXPECT_EQ(r.model, "anything");
  EXPECT_EQ(r.prompt, "one");
  EXPECT_EQ(r.params.max_tokens, 7);
  EXPECT_EQ(r.params.temperature, 0.0);
  EXPECT_EQ(r.params.top_p, 0.5);
  EXPECT_EQ(r.params.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.params.seed, 42u);
  EXPECT_TRUE(r.seed_given);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(OpenAiRequest, NullMeansAbsentAndStopMayBeOneString) {
  CompletionRequest r = parse_completion_request(
      R"({"prompt": "x", "max_tokens": null, "temperature": null, "stop": "END", "seed": null, "logprobs": null,
          "presence_penalty": 0, "echo": false, "best_of": 1, "response_format": {"type": "text"}})",
      kLimit);
  EXPECT_EQ(r.params.max_tokens, kLimit);
  EXPECT_EQ(r.params.stop, std::vector<std::string>{"END"});
  EXPECT_FALSE(r.seed_given);
}

TEST(OpenAiRequest, BodyMustBeAJsonObject) {
  expect_rejected(completion_error("{not json"), "", "not valid JSON");
  expect_rejected(completion_error("[1, 2]"), "", "must be a JSON object");
  expect_rejected(completion_error(""), "", "not valid JSON");
  // fuzz_serve_request: a number past double's range was a 500 (json out_of_range, not parse_error).
  expect_rejected(completion_error(R"({"prompt": "a", "x": 7777e777})"), "", "not valid JSON");
}

// bench/serve_abuse.sh: a body nested 100,000 levels deep (200 KB) crashed the server (nlohmann's
// recursive dump in the wrong-type message); a long wrong value was echoed whole.
TEST(OpenAiRequest, DeepNestingAndHugeValuesAreRefusedShortly) {
  const size_t n = 100000;
  const std::string deep = std::string(n, '[') + std::string(n, ']');
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": )" + deep + "}]}"), "", "more than 1000 levels");
  expect_rejected(completion_error(R"({"prompt": "a", "stop": )" + deep + "}"), "", "more than 1000 levels");
  const ApiError e = completion_error(R"({"prompt": {"a": ")" + std::string(4000, 'x') + R"("}})");
  EXPECT_EQ(e.status(), 400);
  EXPECT_LT(std::string(e.what()).size(), 400u) << "the wrong value is echoed whole";
}

TEST(OpenAiRequest, PromptRules) {
  expect_rejected(completion_error("{}"), "prompt", "'prompt' is required");
  expect_rejected(completion_error(R"({"prompt": ["a", "b"]})"), "prompt", "exactly one string");
  expect_rejected(completion_error(R"({"prompt": []})"), "prompt", "exactly one string");
  expect_rejected(completion_error(R"({"prompt": [1, 2]})"), "prompt", "token ids");
  expect_rejected(completion_error(R"({"prompt": 5})"), "prompt", "must be a string");
}

TEST(OpenAiRequest, MaxTokensRangeAndTheServerLimit) {
  expect_rejected(completion_error(R"({"prompt": "x", "max_tokens": 0})"), "max_tokens", "at least 1");
  expect_rejected(completion_error(R"({"prompt": "x", "max_tokens": 101})"), "max_tokens", "at most 100");
  expect_rejected(completion_error(R"({"prompt": "x", "max_tokens": 1.5})"), "max_tokens", "an integer");
  expect_rejected(completion_error(R"({"prompt": "x", "max_tokens": "9"})"), "max_tokens", "an integer");
  expect_rejected(completion_error(R"({"prompt": "x", "max_tokens": 18446744073709551615})"), "max_tokens",
                  "too large");
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 500})"),
                  "max_completion_tokens", "at most 100");
  ChatRequest c = parse_chat_request(
      R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 50, "max_completion_tokens": 9})", kLimit);
  EXPECT_EQ(c.params.max_tokens, 9);  // the newer name wins
}

TEST(OpenAiRequest, SamplingRanges) {
  expect_rejected(completion_error(R"({"prompt": "x", "temperature": 2.5})"), "temperature", "[0, 2]");
  expect_rejected(completion_error(R"({"prompt": "x", "temperature": -0.1})"), "temperature", "[0, 2]");
  expect_rejected(completion_error(R"({"prompt": "x", "temperature": "hot"})"), "temperature", "a number");
  expect_rejected(completion_error(R"({"prompt": "x", "top_p": 0})"), "top_p", "(0, 1]");
  expect_rejected(completion_error(R"({"prompt": "x", "top_p": 1.01})"), "top_p", "(0, 1]");
  EXPECT_EQ(parse_completion_request(R"({"prompt": "x", "temperature": 2, "top_p": 1})", kLimit).params.temperature, 2);
  expect_rejected(completion_error(R"({"prompt": "x", "seed": 1.5})"), "seed", "an integer");
  EXPECT_EQ(parse_completion_request(R"({"prompt": "x", "seed": -1})", kLimit).params.seed, UINT64_MAX);
}

TEST(OpenAiRequest, StopRules) {
  expect_rejected(completion_error(R"({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]})"), "stop", "at most 4");
  expect_rejected(completion_error(R"({"prompt": "x", "stop": [1]})"), "stop", "must be a string");
  expect_rejected(completion_error(R"({"prompt": "x", "stop": ""})"), "stop", "must not be empty");
  expect_rejected(completion_error(R"({"prompt": "x", "stop": {"a": 1}})"), "stop", "a string or an array");
  EXPECT_TRUE(parse_completion_request(R"({"prompt": "x", "stop": []})", kLimit).params.stop.empty());
}

TEST(OpenAiRequest, StreamNAndModelTypes) {
  expect_rejected(completion_error(R"({"prompt": "x", "stream": "yes"})"), "stream", "a boolean");
  expect_rejected(completion_error(R"({"prompt": "x", "stream_options": 1})"), "stream_options", "an object");
  expect_rejected(completion_error(R"({"prompt": "x", "stream_options": {"include_usage": 1}})"),
                  "stream_options.include_usage", "a boolean");
  expect_rejected(completion_error(R"({"prompt": "x", "n": 2})"), "n", "must be 1");
  expect_rejected(completion_error(R"({"prompt": "x", "n": "1"})"), "n", "an integer");
  expect_rejected(completion_error(R"({"prompt": "x", "model": 3})"), "model", "a string");
}

TEST(OpenAiRequest, FieldsThatWouldChangeTheOutputAreRefusedNotIgnored) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tools", R"([{"type": "function"}])"}, {"functions", R"([{"name": "f"}])"},
      {"echo", "true"},                       {"logprobs", "true"},
      {"logprobs", "3"},                      {"top_logprobs", "2"},
      {"best_of", "3"},                       {"suffix", R"("tail")"},
      {"logit_bias", R"({"50256": -100})"},   {"presence_penalty", "0.5"},
      {"frequency_penalty", "-1"},            {"response_format", R"({"type": "json_object"})"}};
  for (const auto& [name, value] : cases)
    expect_rejected(completion_error(R"({"prompt": "x", ")" + name + "\": " + value + "}"), name, "not supported");
}

TEST(OpenAiRequest, ChatMessagesStringsPartsAndRoles) {
  ChatRequest r = parse_chat_request(
      R"({"messages": [{"role": "developer", "content": "be brief"},
                       {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "name": "u"},
                       {"role": "assistant", "content": "ok"}]})",
      kLimit);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "be brief");
  EXPECT_EQ(r.messages[1].content, "a\nb");
  EXPECT_EQ(r.messages[2].role, "assistant");
}

TEST(OpenAiRequest, ChatMessageRules) {
  expect_rejected(chat_error("{}"), "messages", "'messages' is required");
  expect_rejected(chat_error(R"({"messages": []})"), "messages", "at least one");
  expect_rejected(chat_error(R"({"messages": "hi"})"), "messages", "an array");
  expect_rejected(chat_error(R"({"messages": ["hi"]})"), "messages[0]", "an object");
  expect_rejected(chat_error(R"({"messages": [{"content": "x"}]})"), "messages[0].role", "required");
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "x"}]})"),
                  "messages[1].role", "system, developer, user or assistant");
  expect_rejected(chat_error(R"({"messages": [{"role": 1, "content": "x"}]})"), "messages[0].role", "a string");
  expect_rejected(chat_error(R"({"messages": [{"role": "user"}]})"), "messages[0].content", "required");
  expect_rejected(chat_error(R"({"messages": [{"role": "assistant", "content": null}]})"), "messages[0].content",
                  "required");
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": 7}]})"), "messages[0].content",
                  "a string or an array of text parts");
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})"),
                  "messages[0].content[0].type", "\"text\"");
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})"),
                  "messages[0].content[0].text", "required");
  expect_rejected(chat_error(R"({"messages": [{"role": "user", "content": ["x"]}]})"), "messages[0].content[0]",
                  "an object");
}

}  // namespace
}  // namespace ptft
