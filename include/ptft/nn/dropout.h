// ptft/nn/dropout.h — inverted dropout as one autograd op: y = x * keep / (1 - p), keep drawn with
// probability 1 - p per element.
//
//   h = nn::dropout(h, 0.1, is_training());   // identity when not training or p == 0
//   (call it qualified: at::dropout has the same signature and argument-dependent lookup finds it)
//
// CPU fp32 / bf16: nn/dropout_kernel.h's counter-based mask from one 64-bit key drawn from
// libtorch's default CPU generator (so seeding and a resumed run's restored generator state
// reproduce it), applied in one vectorised pass; the backward recomputes the mask (nothing
// saved; libtorch keeps a mask tensor the size of x and draws one random number per element,
// ~7-9 ns each on 2 threads here). Other tensors (CUDA, double): libtorch's dropout.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace ptft::nn
