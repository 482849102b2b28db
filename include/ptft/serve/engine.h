// ptft/serve/engine.h — what `ptft serve` asks of a model: render a chat, count a prompt's
// tokens, generate a continuation as a stream of text pieces. Torch-free interface: the HTTP /
// OpenAI layer (api_server.h, request_handler.h) knows only this; the model-backed engine
// lives with the model code, and the tests use a deterministic double.
//
// One request at a time: the server serialises every call into the engine (engine_queue.h).
//
//   GenerationParams p;  p.max_tokens = 32;  p.temperature = 0;
//   GenerationOutcome o = engine.generate("Once upon a time", p, [](const std::string& piece) {
//     std::cout << piece << std::flush;
//     return true;   // false: the client is gone, stop now (finish_reason "cancelled")
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ptft/data/chat_template.h"  // ChatMessage {role: system|user|assistant, content}

namespace ptft {

struct GenerationParams {
  int64_t max_tokens = 256;          // new tokens at most (>= 1)
  double temperature = 1.0;          // 0 = greedy; OpenAI's range 0..2
  double top_p = 1.0;                // nucleus mass in (0, 1]; 1 = off
  uint64_t seed = 0;                 // the same seed and prompt give the same text
  std::vector<std::string> stop;     // generation ends at the first one; it is not emitted
};

struct GenerationOutcome {
  std::string text;                  // everything handed to on_text, concatenated
  int64_t prompt_tokens = 0;         // tokens the model saw as the prompt
  int64_t completion_tokens = 0;     // tokens generated (end-of-text excluded)
  std::string finish_reason;         // "stop" (end-of-text or a stop string) | "length" | "cancelled"
};

// Receives text as soon as it is final (whole UTF-8 characters, never part of a stop string).
// Returning false cancels the generation.
using TextSink = std::function<bool(const std::string& piece)>;

class GenerationEngine {
 public:
  virtual ~GenerationEngine() = default;
  // The id /v1/models lists and responses carry (e.g. the checkpoint directory's name).
  virtual std::string model_id() const = 0;
  // Tokens the model attends to; a prompt must leave room for at least one new token.
  virtual int64_t context_length() const = 0;
  // The tokens `prompt` becomes, as generate() counts prompt_tokens: the server answers 400
  // before streaming when a prompt does not fit the context.
  virtual int64_t count_tokens(const std::string& prompt) const = 0;
  virtual bool has_chat_template() const = 0;
  // The conversation as one prompt, ending with the generation prompt of the assistant's turn.
  // UserError when the template rejects the conversation (e.g. roles out of order).
  virtual std::string render_chat(const std::vector<ChatMessage>& messages) const = 0;
  // Generation ends at end-of-text or a stop string ("stop"), after params.max_tokens or at the
  // context's end ("length"), or when on_text returns false ("cancelled"). UserError for a
  // prompt over the context (the message names the limit).
  virtual GenerationOutcome generate(const std::string& prompt, const GenerationParams& params,
                                     const TextSink& on_text) = 0;
};

}  // namespace ptft
