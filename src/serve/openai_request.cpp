#include "ptft/serve/openai_request.h"
#include "ptft/core/json_depth.h"

#include <nlohmann/json.hpp>

#include "ptft/serve/api_error.h"

namespace ptft {
namespace {

using nlohmann::json;

constexpr size_t kMaxStopStrings = 4;  // OpenAI's limit

json parse_body(const std::string& body) {
  json j;
  if (json_depth(body) > kMaxJsonDepth)
    throw ApiError(400, "the request body nests JSON more than " + std::to_string(kMaxJsonDepth) + " levels deep");
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number past double (1e999)
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what() +
                            " (send a JSON object with Content-Type: application/json)");
  }
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object, got " + std::string(j.type_name()));
  return j;
}

// The field, or nullptr when absent or null.
const json* field(const json& obj, const std::string& name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void wrong_type(const std::string& name, const char* expected, const json& got) {
  std::string text = got.dump();  // bounded depth (parse_body); its length is not
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  throw ApiError(400, "'" + name + "' must be " + expected + ", got " + got.type_name() + " " + text, name);
}

std::string as_string(const json& v, const std::string& name) {
  if (!v.is_string()) wrong_type(name, "a string", v);
  return v.get<std::string>();
}

int64_t as_integer(const json& v, const std::string& name) {
  if (!v.is_number_integer()) wrong_type(name, "an integer", v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
    throw ApiError(400, "'" + name + "' is too large: " + v.dump(), name);
  return v.get<int64_t>();
}

// A number in [lo, hi], or (lo, hi] when lo_open; `range` spells the interval for the message.
double as_number_in(const json& v, const std::string& name, double lo, double hi, bool lo_open, const char* range) {
  if (!v.is_number()) wrong_type(name, "a number", v);
  const double x = v.get<double>();
  if (x > hi || x < lo || (lo_open && x == lo))
    throw ApiError(400, "'" + name + "' must be in " + range + ", got " + v.dump(), name);
  return x;
}

// A field that changes the output in a way this server cannot give: refuse rather than ignore.
void refuse_unsupported(const json& body) {
  auto refuse = [](const std::string& name, const std::string& why) {
    throw ApiError(400, "'" + name + "' is not supported by this server: " + why, name);
  };
  auto nonempty = [&](const char* name) {
    const json* v = field(body, name);
    return v && !(v->empty() || (v->is_boolean() && !v->get<bool>()));
  };
  for (const char* name : {"tools", "functions"})
    if (nonempty(name)) refuse(name, "there is no function calling; remove it");
  if (nonempty("echo")) refuse("echo", "the prompt is not echoed; remove it or send false");
  if (const json* v = field(body, "logprobs"); v && !(v->is_boolean() && !v->get<bool>()))
    refuse("logprobs", "log-probabilities are not returned; remove it");
  if (const json* v = field(body, "top_logprobs"); v && !(v->is_number() && v->get<double>() == 0))
    refuse("top_logprobs", "log-probabilities are not returned; remove it");
  if (const json* v = field(body, "best_of"); v && !(v->is_number_integer() && v->get<int64_t>() == 1))
    refuse("best_of", "one candidate is generated; remove it or send 1");
  if (const json* v = field(body, "suffix"); v && !(v->is_string() && v->get<std::string>().empty()))
    refuse("suffix", "there is no insertion mode; remove it");
  if (nonempty("logit_bias")) refuse("logit_bias", "remove it");
  for (const char* name : {"presence_penalty", "frequency_penalty"})
    if (const json* v = field(body, name); v && !(v->is_number() && v->get<double>() == 0))
      refuse(name, "there are no repetition penalties; remove it or send 0");
  if (const json* v = field(body, "response_format"); v && !(v->is_object() && v->contains("type") && (*v)["type"] == "text"))
    refuse("response_format", "only plain text is generated; remove it or send {\"type\": \"text\"}");
}

std::vector<std::string> parse_stop(const json& v) {
  std::vector<std::string> stop;
  if (v.is_string()) {
    stop.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.size() > kMaxStopStrings)
      throw ApiError(400, "'stop' holds " + std::to_string(v.size()) + " strings; at most " +
                              std::to_string(kMaxStopStrings) + " are allowed", "stop");
    for (const json& s : v) stop.push_back(as_string(s, "stop"));
  } else {
    wrong_type("stop", "a string or an array of strings", v);
  }
  for (const std::string& s : stop)
    if (s.empty()) throw ApiError(400, "'stop' strings must not be empty", "stop");
  return stop;
}

int64_t parse_max_tokens(const json& body, int64_t limit) {
  std::string name = "max_completion_tokens";
  const json* v = field(body, name);
  if (!v) v = field(body, name = "max_tokens");
  if (!v) return limit;
  const int64_t n = as_integer(*v, name);
  if (n < 1) throw ApiError(400, "'" + name + "' must be at least 1, got " + std::to_string(n), name);
  if (n > limit)
    throw ApiError(400, "'" + name + "' is " + std::to_string(n) + "; this server allows at most " +
                            std::to_string(limit) + " new tokens per request", name);
  return n;
}

SamplingRequest parse_sampling(const json& body, int64_t max_tokens_limit) {
  refuse_unsupported(body);
  SamplingRequest r;
  if (const json* v = field(body, "model")) r.model = as_string(*v, "model");
  if (const json* v = field(body, "n"); v && as_integer(*v, "n") != 1)
    throw ApiError(400, "'n' must be 1: this server generates one choice per request, got " + v->dump(), "n");
  r.params.max_tokens = parse_max_tokens(body, max_tokens_limit);
  if (const json* v = field(body, "temperature")) r.params.temperature = as_number_in(*v, "temperature", 0, 2, false, "[0, 2]");
  if (const json* v = field(body, "top_p")) r.params.top_p = as_number_in(*v, "top_p", 0, 1, true, "(0, 1]");
  if (const json* v = field(body, "stop")) r.params.stop = parse_stop(*v);
  if (const json* v = field(body, "seed")) {
    r.params.seed = static_cast<uint64_t>(v->is_number_unsigned() ? v->get<uint64_t>() : as_integer(*v, "seed"));
    r.seed_given = true;
  }
  if (const json* v = field(body, "stream")) {
    if (!v->is_boolean()) wrong_type("stream", "a boolean", *v);
    r.stream = v->get<bool>();
  }
  if (const json* o = field(body, "stream_options")) {
    if (!o->is_object()) wrong_type("stream_options", "an object", *o);
    if (const json* v = field(*o, "include_usage")) {
      if (!v->is_boolean()) wrong_type("stream_options.include_usage", "a boolean", *v);
      r.include_usage = v->get<bool>();
    }
  }
  return r;
}

std::string parse_prompt(const json& body) {
  const json* v = field(body, "prompt");
  if (!v) throw ApiError(400, "'prompt' is required: the text to continue", "prompt");
  if (v->is_string()) return v->get<std::string>();
  if (v->is_array() && v->size() == 1 && (*v)[0].is_string()) return (*v)[0].get<std::string>();
  if (v->is_array() && !v->empty() && (*v)[0].is_number_integer())
    throw ApiError(400, "'prompt' as token ids is not supported: send the text", "prompt");
  if (v->is_array())
    throw ApiError(400, "'prompt' arrays must hold exactly one string (one prompt per request), got " +
                            std::to_string(v->size()) + " elements", "prompt");
  wrong_type("prompt", "a string", *v);
}

// A message's content: a string, or text parts joined by newlines.
std::string parse_content(const json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) wrong_type(where, "a string or an array of text parts", v);
  std::string text;
  for (size_t j = 0; j < v.size(); ++j) {
    const std::string part = where + "[" + std::to_string(j) + "]";
    if (!v[j].is_object()) wrong_type(part, "an object {\"type\": \"text\", \"text\": ...}", v[j]);
    const json* type = field(v[j], "type");
    if (!type || *type != "text")
      throw ApiError(400, "'" + part + ".type' must be \"text\" (this server reads text only), got " +
                              (type ? type->dump() : "nothing"), part + ".type");
    const json* t = field(v[j], "text");
    if (!t) throw ApiError(400, "'" + part + ".text' is required", part + ".text");
    text += (j ? "\n" : "") + as_string(*t, part + ".text");
  }
  return text;
}

ChatMessage parse_message(const json& m, size_t i) {
  const std::string where = "messages[" + std::to_string(i) + "]";
  if (!m.is_object()) wrong_type(where, "an object {\"role\", \"content\"}", m);
  const json* role = field(m, "role");
  if (!role) throw ApiError(400, "'" + where + ".role' is required", where + ".role");
  ChatMessage msg{as_string(*role, where + ".role"), ""};
  if (msg.role == "developer") msg.role = "system";
  if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
    throw ApiError(400, "'" + where + ".role' must be system, developer, user or assistant, got '" + msg.role +
                            "' (there is no function calling)", where + ".role");
  const json* content = field(m, "content");
  if (!content) throw ApiError(400, "'" + where + ".content' is required", where + ".content");
  msg.content = parse_content(*content, where + ".content");
  return msg;
}

}  // namespace

CompletionRequest parse_completion_request(const std::string& body, int64_t max_tokens_limit) {
  const json j = parse_body(body);
  CompletionRequest r;
  static_cast<SamplingRequest&>(r) = parse_sampling(j, max_tokens_limit);
  r.prompt = parse_prompt(j);
  return r;
}

ChatRequest parse_chat_request(const std::string& body, int64_t max_tokens_limit) {
  const json j = parse_body(body);
  ChatRequest r;
  static_cast<SamplingRequest&>(r) = parse_sampling(j, max_tokens_limit);
  const json* v = field(j, "messages");
  if (!v) throw ApiError(400, "'messages' is required: the conversation so far", "messages");
  if (!v->is_array()) wrong_type("messages", "an array of messages", *v);
  if (v->empty()) throw ApiError(400, "'messages' must hold at least one message", "messages");
  for (size_t i = 0; i < v->size(); ++i) r.messages.push_back(parse_message((*v)[i], i));
  return r;
}

}  // namespace ptft
