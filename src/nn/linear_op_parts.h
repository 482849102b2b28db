// src/nn/linear_op_parts.h — private to the projection ops written as one autograd function
// (lora_linear.cpp, wide_linear.cpp): the pieces both need around their GEMMs.
#pragma once

#include <ATen/AccumulateType.h>
#include <torch/torch.h>

#include <vector>

namespace ptft::nn {

// `t`'s sizes with the last one replaced: (..., n) -> (..., last).
inline std::vector<int64_t> with_last(const torch::Tensor& t, int64_t last) {
  auto shape = t.sizes().vec();
  shape.back() = last;
  return shape;
}

// An optional tensor input of a torch::autograd::Function: itself, or an empty tensor on x's device
// (Function::apply records every tensor input's device; an undefined one throws "tensor does not
// have a device"). Pass whether it is real as a separate argument.
inline torch::Tensor or_placeholder(const torch::Tensor& t, const torch::Tensor& x) {
  return t.defined() ? t : torch::empty({0}, x.options().requires_grad(false));
}

// A bias's gradient from dy (N, out): summed over the rows in the accumulate type (float for bf16),
// as libtorch's reductions.
inline torch::Tensor bias_grad(const torch::Tensor& dy) {
  return dy.sum(0, /*keepdim=*/false, at::toAccumulateType(dy.scalar_type(), dy.is_cuda()));
}

}  // namespace ptft::nn
