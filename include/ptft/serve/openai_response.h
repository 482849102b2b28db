// ptft/serve/openai_response.h — the JSON objects OpenAI's API answers with, and the SSE
// framing of streams (pure functions).
//
//   {"id": "cmpl-…", "object": "text_completion", "created": 1700000000, "model": "m",
//    "choices": [{"text": "…", "index": 0, "logprobs": null, "finish_reason": "stop"}],
//    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}
//   chat: "object": "chat.completion", "id": "chatcmpl-…",
//         choices[0]: {"index": 0, "message": {"role": "assistant", "content": "…"}, "logprobs": null, "finish_reason"}
//   stream chunks: "text_completion" with choices[0].text, or "chat.completion.chunk" with
//         choices[0].delta (the first {"role": "assistant", "content": ""}, then {"content": piece},
//         the last {} with finish_reason); finish_reason null until the last chunk.
//   sse_event(chunk) = "data: <json>\n\n"; a stream ends with kSseDone.
//
//   ResponseMeta meta = new_response_meta("chatcmpl-", engine.model_id());
//   reply.body = chat_response(meta, outcome).dump();
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ptft/serve/engine.h"

namespace ptft {

struct ResponseMeta {
  std::string id;        // prefix + 24 random letters and digits
  int64_t created = 0;   // Unix seconds
  std::string model;
};

// `prefix`: "cmpl-" or "chatcmpl-"; created now.
ResponseMeta new_response_meta(const std::string& prefix, const std::string& model);

nlohmann::json usage_json(const GenerationOutcome& out);
nlohmann::json completion_response(const ResponseMeta& meta, const GenerationOutcome& out);
nlohmann::json chat_response(const ResponseMeta& meta, const GenerationOutcome& out);

// finish_reason "" is null (every chunk but the last).
nlohmann::json completion_chunk(const ResponseMeta& meta, const std::string& text, const std::string& finish_reason);
nlohmann::json chat_chunk(const ResponseMeta& meta, const nlohmann::json& delta, const std::string& finish_reason);
// stream_options.include_usage: the chunk after the last, "choices": [] and usage.
nlohmann::json usage_chunk(const ResponseMeta& meta, const std::string& object, const GenerationOutcome& out);

// GET /v1/models: {"object": "list", "data": [model_object(...)]}
nlohmann::json model_object(const std::string& model, int64_t created);
nlohmann::json models_list(const std::string& model, int64_t created);

// Compact JSON; invalid UTF-8 in model text becomes U+FFFD instead of throwing.
std::string json_text(const nlohmann::json& j);
std::string sse_event(const nlohmann::json& j);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace ptft
