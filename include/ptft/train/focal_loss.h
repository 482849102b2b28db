// ptft/train/focal_loss.h — the sigmoid focal loss of RetinaNet (Lin et al., ICCV 2017) for
// dense detection heads, where nearly every point is background:
//
//   p = sigmoid(x);  p_t = p if y = 1 else 1 - p;  alpha_t = alpha if y = 1 else 1 - alpha
//   FL = -alpha_t (1 - p_t)^gamma log(p_t)        (gamma 0, alpha < 0: plain BCE with logits)
// computed from logits with log-sigmoid (stable for large |x|). Elementwise, no reduction; the
// caller sums and divides by the number of positives, as FCOS and RetinaNet do.
//
//   torch::Tensor l = sigmoid_focal_loss(logits, targets, /*alpha=*/0.25, /*gamma=*/2.0);  // (P,C) -> (P,C)
#pragma once

#include <torch/torch.h>

namespace ptft {

// logits, targets: the same shape; targets in [0, 1]. alpha < 0 disables the class weighting.
torch::Tensor sigmoid_focal_loss(const torch::Tensor& logits, const torch::Tensor& targets, double alpha = 0.25,
                                 double gamma = 2.0);

}  // namespace ptft
