#include "ptft/train/causal_lm_task.h"

#include <cmath>

#include "ptft/core/error.h"

namespace ptft {
namespace {

// Summed next-token cross-entropy and the number of predicted tokens.
std::pair<torch::Tensor, int64_t> lm_loss_sum(ModelImpl& model, const Batch& batch) {
  auto it = batch.data.find("targets");
  PTFT_CHECK(it != batch.data.end(), "causal_lm batch has no 'targets'");
  auto logits = model.forward(batch.data).at("logits");  // (B,T,V)
  const auto& targets = it->second;                      // (B,T)
  auto loss = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum).ignore_index(CausalLmTask::kIgnore));
  return {loss, targets.ne(CausalLmTask::kIgnore).sum().item<int64_t>()};
}

class CausalLmEval : public EvalAccumulator {
 public:
  void add(ModelImpl& model, const Batch& batch) override {
    auto [loss, n] = lm_loss_sum(model, batch);
    loss_sum_ += loss.item<double>();
    tokens_ += n;
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

torch::Tensor CausalLmTask::loss_sum(ModelImpl& model, const Batch& batch) { return lm_loss_sum(model, batch).first; }

std::unique_ptr<EvalAccumulator> CausalLmTask::new_eval() const { return std::make_unique<CausalLmEval>(); }

}  // namespace ptft
