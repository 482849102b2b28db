// ptft/train/adamw_kernel.h — the optimizer step's torch-free kernels over a contiguous fp32 range:
// the fused AdamW update, and the sum of squares that gradient clipping's norm reads.
//
// One pass over memory: param, grad, exp_avg and exp_avg_sq are each read and written once
// (the tensor-op formulation makes ~10 passes). Compiled with function multiversioning
// (AVX-512 / AVX2 / baseline, picked at load time) and without errno-setting math so the loop
// vectorises. The arithmetic is torch.optim.AdamW's: lerp for the first moment, decoupled decay.
//
//   adamw_update(p, g, m, v, n, {lr, wd, beta1, beta2, eps, bias_corr1, sqrt(bias_corr2), clip_coef});
//   double ss = sum_squares(g, n);
#pragma once

#include <cstdint>

namespace ptft {

struct AdamWStep {
  float lr, weight_decay, beta1, beta2, eps;
  float bias_correction1;       // 1 - beta1^t
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
  float grad_scale = 1.0f;      // the gradient is read as g * grad_scale (clipping's coefficient)
};

void adamw_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                  const AdamWStep& s);

// sum_i x[i]^2, in 16 fp32 partial sums (vectorised) added in double at the end.
double sum_squares(const float* x, int64_t n);

}  // namespace ptft
