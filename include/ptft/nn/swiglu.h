// ptft/nn/swiglu.h — the gate of a SwiGLU MLP as one autograd op: silu(gate) * up.
//
//   a = nn::swiglu(gate_proj(x), up_proj(x));   // = torch::silu(gate) * up, forward and gradients
//
// Contiguous-able CPU fp32 / bf16 pairs of one dtype run nn/swiglu_kernel.h's vectorised kernels
// (one pass each way; saves gate and up only, not silu(gate)); any other pair (double, CUDA,
// mixed dtypes) runs libtorch's ops.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up);

}  // namespace ptft::nn
