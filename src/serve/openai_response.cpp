#include "ptft/serve/openai_response.h"

#include <chrono>
#include <random>

namespace ptft {

using nlohmann::json;

namespace {

json null_if_empty(const std::string& s) { return s.empty() ? json() : json(s); }

std::string random_suffix(size_t n) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof kChars - 2);
  std::string s(n, ' ');
  for (char& c : s) c = kChars[pick(gen)];
  return s;
}

json envelope(const ResponseMeta& meta, const char* object) {
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

ResponseMeta new_response_meta(const std::string& prefix, const std::string& model) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return {prefix + random_suffix(24), std::chrono::duration_cast<std::chrono::seconds>(now).count(), model};
}

json usage_json(const GenerationOutcome& out) {
  return {{"prompt_tokens", out.prompt_tokens},
          {"completion_tokens", out.completion_tokens},
          {"total_tokens", out.prompt_tokens + out.completion_tokens}};
}

json completion_response(const ResponseMeta& meta, const GenerationOutcome& out) {
  json r = envelope(meta, "text_completion");
  r["choices"] = json::array({{{"text", out.text}, {"index", 0}, {"logprobs", nullptr},
                               {"finish_reason", null_if_empty(out.finish_reason)}}});
  r["usage"] = usage_json(out);
  return r;
}

json chat_response(const ResponseMeta& meta, const GenerationOutcome& out) {
  json r = envelope(meta, "chat.completion");
  r["choices"] = json::array({{{"index", 0},
                               {"message", {{"role", "assistant"}, {"content", out.text}}},
                               {"logprobs", nullptr},
                               {"finish_reason", null_if_empty(out.finish_reason)}}});
  r["usage"] = usage_json(out);
  return r;
}

json completion_chunk(const ResponseMeta& meta, const std::string& text, const std::string& finish_reason) {
  json r = envelope(meta, "text_completion");
  r["choices"] = json::array(
      {{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", null_if_empty(finish_reason)}}});
  return r;
}

json chat_chunk(const ResponseMeta& meta, const json& delta, const std::string& finish_reason) {
  json r = envelope(meta, "chat.completion.chunk");
  r["choices"] = json::array(
      {{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", null_if_empty(finish_reason)}}});
  return r;
}

json usage_chunk(const ResponseMeta& meta, const std::string& object, const GenerationOutcome& out) {
  json r = envelope(meta, object.c_str());
  r["choices"] = json::array();
  r["usage"] = usage_json(out);
  return r;
}

json model_object(const std::string& model, int64_t created) {
  return {{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "ptft"}};
}

json models_list(const std::string& model, int64_t created) {
  return {{"object", "list"}, {"data", json::array({model_object(model, created)})}};
}

std::string json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& j) { return "data: " + json_text(j) + "\n\n"; }

}  // namespace ptft
