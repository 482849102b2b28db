#include "ptft/train/masked_lm_task.h"

#include "ptft/train/token_loss.h"

namespace ptft {

torch::Tensor MaskedLmTask::loss_sum(ModelImpl& model, const Batch& batch) {
  return token_cross_entropy(model, batch, false).sum;
}

std::unique_ptr<EvalAccumulator> MaskedLmTask::new_eval() const { return new_token_eval(/*accuracy=*/true); }

}  // namespace ptft
