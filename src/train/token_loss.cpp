#include "ptft/train/token_loss.h"

#include "ptft/core/error.h"

namespace ptft {

TokenLoss token_cross_entropy(ModelImpl& model, const Batch& batch, bool count_correct) {
  auto in = batch.data.find("targets");
  PTFT_CHECK(in != batch.data.end(), "language-model batch has no 'targets'");
  const TensorMap out = model.forward(batch.data);
  auto own = out.find("targets");
  const torch::Tensor targets = (own != out.end() ? own->second : in->second).reshape({-1});  // (N)
  const torch::Tensor& logits3 = out.at("logits");
  auto logits = logits3.reshape({-1, logits3.size(-1)}).to(torch::kFloat);                   // (N,V)
  TokenLoss r;
  r.sum = torch::nn::functional::cross_entropy(
      logits, targets,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum).ignore_index(kIgnoreTarget));
  const auto counted = targets.ne(kIgnoreTarget);
  r.tokens = counted.sum().item<int64_t>();
  if (count_correct) r.correct = logits.argmax(1).eq(targets).logical_and(counted).sum().item<int64_t>();
  return r;
}

}  // namespace ptft
