// ptft/serve/openai_request.h — the bodies of POST /v1/completions and /v1/chat/completions,
// parsed and validated (pure functions: no sockets, no engine). Every rule failure is an
// ApiError 400 whose param names the field (messages[1].content for a message's).
//
// Fields (null is the same as absent, as OpenAI treats it):
//   model                   string, optional; any value is accepted: one model is served, and
//                           responses name it (clients that hard-code a model name still work)
//   prompt                  completions: a string, or an array of exactly one string
//   messages                chat: non-empty array of {role: system|developer|user|assistant,
//                           content: string | [{type: "text", text}...]} (developer = system)
//   max_tokens              integer in [1, limit]; chat also max_completion_tokens (it wins);
//                           absent: the limit (generation also ends at the model's context)
//   temperature             number in [0, 2], default 1;  top_p: (0, 1], default 1
//   stop                    string or array of at most 4 non-empty strings
//   seed                    integer; absent: seed_given is false and the caller draws one
//   stream                  bool; stream_options.include_usage: bool
//   n                       1 only
// Fields whose effect this server cannot give are refused rather than ignored (tools,
// functions, echo, logprobs, top_logprobs, best_of > 1, suffix, logit_bias, non-zero
// presence/frequency_penalty, response_format other than text); anything else is ignored.
//
//   CompletionRequest r = parse_completion_request(body, 4096);   // throws ApiError
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ptft/serve/engine.h"

namespace ptft {

// What both endpoints share.
struct SamplingRequest {
  std::string model;            // as sent ("" when absent)
  GenerationParams params;
  bool seed_given = false;
  bool stream = false;
  bool include_usage = false;   // stream_options.include_usage: a last chunk with usage
};

struct CompletionRequest : SamplingRequest {
  std::string prompt;
};

struct ChatRequest : SamplingRequest {
  std::vector<ChatMessage> messages;
};

// `max_tokens_limit`: the server's cap on max_tokens (and its default).
CompletionRequest parse_completion_request(const std::string& body, int64_t max_tokens_limit);
ChatRequest parse_chat_request(const std::string& body, int64_t max_tokens_limit);

}  // namespace ptft
