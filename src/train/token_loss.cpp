#include "ptft/train/token_loss.h"

#include "ptft/core/error.h"
#include "ptft/nn/cross_entropy.h"

#include <cmath>

namespace ptft {
namespace {

class TokenEval : public EvalAccumulator {
 public:
  explicit TokenEval(bool accuracy) : accuracy_(accuracy) {}
  void add(ModelImpl& model, const Batch& batch) override {
    const TokenLoss l = token_cross_entropy(model, batch, accuracy_);
    loss_sum_ += l.sum.item<double>();
    tokens_ += l.tokens;
    correct_ += l.correct;
  }
  nlohmann::json result() const override {
    const double n = tokens_ > 0 ? static_cast<double>(tokens_) : 1.0;
    const double loss = tokens_ > 0 ? loss_sum_ / n : 0.0;
    nlohmann::json r = {{"loss", loss}, {"perplexity", std::exp(loss)}, {"tokens", tokens_}};
    if (accuracy_) r["accuracy"] = static_cast<double>(correct_) / n;
    return r;
  }

 private:
  bool accuracy_;
  double loss_sum_ = 0;
  int64_t tokens_ = 0, correct_ = 0;
};

}  // namespace

std::unique_ptr<EvalAccumulator> new_token_eval(bool accuracy) { return std::make_unique<TokenEval>(accuracy); }

TokenLoss token_cross_entropy(ModelImpl& model, const Batch& batch, bool count_correct) {
  auto in = batch.data.find("targets");
  PTFT_CHECK(in != batch.data.end(), "language-model batch has no 'targets'");
  const TensorMap out = model.forward(batch.data);
  auto own = out.find("targets");
  const torch::Tensor targets = (own != out.end() ? own->second : in->second).reshape({-1});  // (N)
  const torch::Tensor& logits3 = out.at("logits");
  const auto logits = logits3.reshape({-1, logits3.size(-1)});  // (N,V), fp32 or bf16 (autocast)
  TokenLoss r;
  // fp32, no fp32 copy of the logits; in a training step (the trainer differentiates it once) the
  // backward writes their gradient over them.
  const bool training_step = torch::GradMode::is_enabled() && !count_correct;
  r.sum = nn::cross_entropy_sum(logits, targets, kIgnoreTarget, /*overwrite_logits=*/training_step);
  const auto counted = targets.ne(kIgnoreTarget);
  r.tokens = counted.sum().item<int64_t>();
  if (count_correct) r.correct = logits.argmax(1).eq(targets).logical_and(counted).sum().item<int64_t>();
  return r;
}

}  // namespace ptft
