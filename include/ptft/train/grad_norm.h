// ptft/train/grad_norm.h — gradient clipping as torch.nn.utils.clip_grad_norm_ defines it, split
// in two so that the scaling costs no pass of its own: the global L2 norm of the gradients, and
// the coefficient that the optimizer multiplies them by while it reads them (Optimizer::step).
//
//   const double norm = grad_norm(params);                       // parameters without .grad skipped
//   opt.step(lr, clip_coefficient(norm, /*max_norm=*/1.0));      // 1 when the norm is under the limit
//
// Dense fp32 CPU gradients are read by one vectorised pass in fixed chunks of 64 Ki values, summed
// in double in chunk order (the same value on any thread count); others (CUDA, bf16) by libtorch.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ptft {

double grad_norm(const std::vector<torch::Tensor>& params);

// max_norm / (norm + 1e-6) when that is below 1, else 1; max_norm 0 = no clipping (1).
double clip_coefficient(double norm, double max_norm);

}  // namespace ptft
