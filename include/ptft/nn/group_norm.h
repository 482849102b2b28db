// ptft/nn/group_norm.h — group normalisation fused with the ReLU after it, on channels-last
// input, for the detector's head towers (conv, GroupNorm, ReLU).
//
// torch.nn.GroupNorm exactly (statistics per sample and group of C / groups channels, biased
// variance, per-channel affine weight and bias), then ReLU when asked. On the CPU, for fp32 or
// bf16 channels-last input, the BatchNorm kernels (nn/batch_norm_kernel.h) run per sample: one
// pass of per-channel sums, the group statistics combined in double, one pass that normalises,
// scales and applies the ReLU; backward two passes. The output keeps the input's dtype and
// layout, so the convolution after it reads channels-last bf16 under autocast. Otherwise (CUDA,
// NCHW, other dtypes) libtorch's group_norm on fp32 NCHW, then relu: the same function. In the
// detector, libtorch 1.13's CPU group_norm took fp32 NCHW copies of the towers' channels-last
// bf16 activations (it is ~50x slower on channels-last) and the towers' convolutions then ran
// NCHW: leaving the GroupNorms out made a detector step 12-24 % faster (docs/results.md).
//
//   y = nn::group_norm_act(x, 16, gn->weight, gn->bias, 1e-5, /*relu=*/true);  // (B,C,H,W) -> (B,C,H,W)
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// x (B,C,H,W), C divisible by groups; weight and bias (C), or undefined for no affine part (then
// libtorch's path) -> act(group_norm(x)) as x.
torch::Tensor group_norm_act(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                             const torch::Tensor& bias, double eps, bool relu);

}  // namespace ptft::nn
