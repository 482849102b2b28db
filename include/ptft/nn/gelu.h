// ptft/nn/gelu.h — GELU as an autograd op: exact (erf; BERT) and with the tanh approximation
// (GPT-2's MLP, gated MLPs with gelu_tanh).
//
//   y = nn::gelu_erf(x);    // = torch::gelu(x), forward and gradient
//   y = nn::gelu_tanh(x);   // = torch::gelu(x, "tanh")
//
// Contiguous-able CPU fp32 / bf16 tensors run nn/gelu_kernel.h's vectorised kernels (the backward
// recomputes from the saved input); any other tensor (double, CUDA) runs libtorch's.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor gelu_erf(const torch::Tensor& x);
torch::Tensor gelu_tanh(const torch::Tensor& x);

}  // namespace ptft::nn
