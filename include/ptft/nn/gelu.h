// ptft/nn/gelu.h — GELU with the tanh approximation as an autograd op (GPT-2's MLP, gated MLPs
// with gelu_tanh).
//
//   y = nn::gelu_tanh(x);   // = torch::gelu(x, "tanh"), forward and gradient
//
// Contiguous CPU fp32 / bf16 tensors run nn/gelu_kernel.h's vectorised kernels (the backward
// recomputes tanh from the saved input); any other tensor (double, CUDA) runs libtorch's.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor gelu_tanh(const torch::Tensor& x);

}  // namespace ptft::nn
