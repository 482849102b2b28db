// ptft/train/token_loss.h — the token-level cross-entropy that the language-model tasks share.
//
// Runs the model on `batch` and scores its `logits` against the targets: the model's own
// `targets` output when it returns one (logits gathered at the predicted positions, (N,V) and
// (N)), else the batch's `targets` ((B,T,V) against (B,T)); -100 marks positions not predicted.
//
//   TokenLoss l = token_cross_entropy(model, batch, /*count_correct=*/true);
//   l.sum.backward();  l.tokens;  l.correct;
//   auto acc = new_token_eval(/*accuracy=*/true);   // what CausalLmTask / MaskedLmTask evaluate with
#pragma once

#include "ptft/data/data_source.h"
#include "ptft/models/model.h"
#include "ptft/train/task.h"

namespace ptft {

struct TokenLoss {
  torch::Tensor sum;    // scalar: summed cross-entropy over the predicted tokens (with grad)
  int64_t tokens = 0;   // predicted tokens
  int64_t correct = 0;  // of them, argmax == target (when asked for)
};

constexpr int64_t kIgnoreTarget = -100;

TokenLoss token_cross_entropy(ModelImpl& model, const Batch& batch, bool count_correct);

// The evaluation of the language-model tasks: {"loss" (mean per predicted token), "perplexity",
// "tokens"}, and with `accuracy` also "accuracy" (argmax = target).
std::unique_ptr<EvalAccumulator> new_token_eval(bool accuracy);

}  // namespace ptft
