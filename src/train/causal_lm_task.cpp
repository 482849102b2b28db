#include "ptft/train/causal_lm_task.h"

#include "ptft/train/token_loss.h"

namespace ptft {

torch::Tensor CausalLmTask::loss_sum(ModelImpl& model, const Batch& batch) {
  return token_cross_entropy(model, batch, false).sum;
}

std::unique_ptr<EvalAccumulator> CausalLmTask::new_eval() const { return new_token_eval(/*accuracy=*/false); }

}  // namespace ptft
