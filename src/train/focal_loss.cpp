#include "ptft/train/focal_loss.h"

#include "ptft/core/error.h"

namespace ptft {

torch::Tensor sigmoid_focal_loss(const torch::Tensor& logits, const torch::Tensor& targets, double alpha, double gamma) {
  PTFT_CHECK(logits.sizes() == targets.sizes(), "sigmoid_focal_loss: logits and targets differ in shape");
  // In float at least (bf16 logits under autocast), double kept.
  auto x = logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat);
  auto y = targets.to(x.scalar_type());
  // BCE with logits, stable: -[y log sigmoid(x) + (1 - y) log sigmoid(-x)]
  auto ce = -(y * torch::log_sigmoid(x) + (1 - y) * torch::log_sigmoid(-x));
  auto p = torch::sigmoid(x);
  auto p_t = p * y + (1 - p) * (1 - y);
  auto loss = gamma == 0 ? ce : ce * (1 - p_t).pow(gamma);
  if (alpha >= 0) loss = loss * (alpha * y + (1 - alpha) * (1 - y));
  return loss;
}

}  // namespace ptft
