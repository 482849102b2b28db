// ptft/eval/lm_eval.h — how well a causal language model predicts text: mean next-token
// cross-entropy (nats per token), perplexity = exp(loss), and the number of predicted tokens.
// The numbers come from CausalLmTask's evaluation accumulator, the same one training reports
// as val_loss / val_perplexity.
//
// A text file is encoded whole, exactly as the tokenizer encodes it (no token prepended), and
// cut into windows that overlap by one token: window i holds tokens [i*T, i*T + T] (T inputs,
// T targets; the last window shorter), so every token but the first is predicted exactly once
// and tokens = N - 1. A token-shard directory is read through its split's evaluation windows
// (token_windows.h), after checking that the shards were made with the model's tokenizer.
//
//   LmEvalOptions o;  o.data = "data/legal-test.txt";  o.batch_size = 8;
//   nlohmann::json m = evaluate_lm(*p.model, p.tokenizer, o);   // {"loss", "perplexity", "tokens"}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

struct LmEvalOptions {
  std::string data;           // a text file or a token-shard directory (`ptft data prepare`)
  std::string split = "val";  // the shard split (train | val); text files have none
  int64_t batch_size = 8;     // windows per forward pass
  int64_t max_tokens = 0;     // shards: only the split's first windows, up to this many targets (0 = all)
  void validate() const;
};

// Evaluates `model` (a causal LM, in eval mode for the call) on opt.data. `tokenizer` encodes
// text files and is compared with the shards' tokenizer. UserErrors name the path and the fix.
nlohmann::json evaluate_lm(ModelImpl& model, const TokenizerPtr& tokenizer, const LmEvalOptions& opt);

// The same on token ids (a text file's tokens), in windows of the model's context length.
// `source` names the text in errors.
nlohmann::json evaluate_lm_tokens(ModelImpl& model, const std::vector<int32_t>& ids, int64_t batch_size,
                                  const std::string& source);

}  // namespace ptft
