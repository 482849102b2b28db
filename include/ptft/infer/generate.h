// ptft/infer/generate.h — text continuation with a causal language model (models/causal_lm.h).
//
// The prompt goes through the model once (prefill, filling one KV cache per layer); then each
// new token costs one forward of a single position. Generation ends at the end-of-text token,
// when a stop string appears in the continuation (the stop string is not part of the text),
// after max_new_tokens, or when the sequence fills the model's context (said on stderr).
// Text is handed to `on_text` in pieces of whole UTF-8 characters as soon as they are final
// (see text_stream.h), so a caller can print as the model writes.
//
// The prompt starts as the tokenizer starts documents (Tokenizer::document_prefix: Llama-2's
// <s>), unless its text begins with that token already (a rendered chat template does).
// An empty prompt starts from the end-of-text token (GPT-2's document separator). A prompt
// longer than the context is a UserError, unless opt.truncate_prompt: then its last
// prompt_budget() tokens are kept (said on stderr), leaving room for the new tokens.
//
//   Generator g(pretrained.model, pretrained.tokenizer, pretrained.dir);
//   SamplingOptions o;  o.max_new_tokens = 64;  o.temperature = 0;
//   GenerateResult r = g.generate("Once upon a time", o, [](const std::string& s) { std::cout << s << std::flush; });
//   r.text, r.ids, r.stop_reason ("eot" | "stop_string" | "max_new_tokens" | "context")
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ptft/infer/sampling.h"
#include "ptft/models/causal_lm.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

struct GenerateResult {
  std::string text;               // the continuation (a stop string and end-of-text excluded)
  std::vector<int32_t> ids;       // generated token ids (end-of-text excluded)
  std::string stop_reason;        // "eot" | "stop_string" | "max_new_tokens" | "context"
  int64_t prompt_tokens = 0;      // tokens the model saw as the prompt (after truncation)
  int64_t truncated_tokens = 0;   // prompt tokens dropped by truncate_prompt
  double seconds = 0;             // wall time, prefill included
  double tokens_per_second = 0;   // sampled tokens (end-of-text included) per second
  double first_token_seconds = 0; // time to first token: the prompt's forward pass and the first sample
  double decode_tokens_per_second = 0;  // sampled tokens after the first per second after the first (0: one token)
};

using TextCallback = std::function<void(const std::string&)>;

// --dtype of generate, chat and serve: "f32" leaves the model as it is; "bf16" (CPU only) holds
// its projections in bfloat16 for the decode steps (CausalLm::hold_decode_weights_bf16): ~1.6x
// the tokens/s of f32 at 124-135 M parameters (docs/results.md), logits within bf16 rounding;
// "auto" is bf16 on a CPU whose bf16 kernel multiplies bf16 pairs in hardware (avx512_bf16: see
// nn::bf16_gemv_kernel), else f32. Returns what it chose ("f32" | "bf16"). Other values, bf16 on
// a non-CPU device or for a model that writes no text are user errors naming the fix.
std::string set_decode_dtype(ModelImpl& model, const std::string& dtype, const c10::Device& device);

class Generator {
 public:
  // `source` names the checkpoint in errors. UserError unless `model` is a causal LM.
  Generator(ModelPtr model, TokenizerPtr tokenizer, std::string source);
  GenerateResult generate(const std::string& prompt, const SamplingOptions& opt, const TextCallback& on_text = {});
  // The same from token ids (the prompt as the model sees it).
  GenerateResult generate_ids(std::vector<int32_t> prompt, const SamplingOptions& opt,
                              const TextCallback& on_text = {});

  // The ids generate(prompt) starts from (see above). UserError naming the prompt's problem.
  std::vector<int32_t> prompt_ids(const std::string& prompt) const;

  int64_t context_length() const { return model_->context_length(); }
  // Prompt tokens that leave room for min(max_new_tokens, context / 2) new tokens.
  int64_t prompt_budget(int64_t max_new_tokens) const;
  const Tokenizer& tokenizer() const { return *tok_; }

 private:
  ModelPtr model_;
  CausalLm* lm_ = nullptr;
  TokenizerPtr tok_;
  std::string source_;
};

}  // namespace ptft
