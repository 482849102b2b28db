#include "ptft/train/masked_lm_task.h"

#include <cmath>

#include "ptft/train/token_loss.h"

namespace ptft {
namespace {

class MaskedLmEval : public EvalAccumulator {
 public:
  void add(ModelImpl& model, const Batch& batch) override {
    const TokenLoss l = token_cross_entropy(model, batch, /*count_correct=*/true);
    loss_sum_ += l.sum.item<double>();
    tokens_ += l.tokens;
    correct_ += l.correct;
  }
  nlohmann::json result() const override {
    const double n = tokens_ > 0 ? static_cast<double>(tokens_) : 1.0;
    const double loss = loss_sum_ / n;
    return {{"loss", loss}, {"perplexity", std::exp(loss)}, {"accuracy", correct_ / n}, {"tokens", tokens_}};
  }

 private:
  double loss_sum_ = 0;
  int64_t tokens_ = 0, correct_ = 0;
};

}  // namespace

torch::Tensor MaskedLmTask::loss_sum(ModelImpl& model, const Batch& batch) {
  return token_cross_entropy(model, batch, false).sum;
}

std::unique_ptr<EvalAccumulator> MaskedLmTask::new_eval() const { return std::make_unique<MaskedLmEval>(); }

}  // namespace ptft
