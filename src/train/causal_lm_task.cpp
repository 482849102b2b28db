#include "ptft/train/causal_lm_task.h"

#include <cmath>

#include "ptft/train/token_loss.h"

namespace ptft {
namespace {

class CausalLmEval : public EvalAccumulator {
 public:
  void add(ModelImpl& model, const Batch& batch) override {
    const TokenLoss l = token_cross_entropy(model, batch, /*count_correct=*/false);
    loss_sum_ += l.sum.item<double>();
    tokens_ += l.tokens;
  }
  nlohmann::json result() const override {
    const double loss = tokens_ > 0 ? loss_sum_ / static_cast<double>(tokens_) : 0.0;
    return {{"loss", loss}, {"perplexity", std::exp(loss)}, {"tokens", tokens_}};
  }

 private:
  double loss_sum_ = 0;
  int64_t tokens_ = 0;
};

}  // namespace

torch::Tensor CausalLmTask::loss_sum(ModelImpl& model, const Batch& batch) {
  return token_cross_entropy(model, batch, false).sum;
}

std::unique_ptr<EvalAccumulator> CausalLmTask::new_eval() const { return std::make_unique<CausalLmEval>(); }

}  // namespace ptft
