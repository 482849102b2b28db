// src/nn/kernel_types.h — private to the torch side of the fused kernels in src/nn/ (the .cpp
// beside each *_kernel.cpp): which tensors the torch-free kernels take and
// their elements as the kernels' pointer types (fp32 as float, bf16 as its uint16_t bits).
//
//   if (!kernel_dtype(x)) return libtorch_op(x);
//   return with_elements(x.scalar_type(), [&](auto tag) {
//     using T = decltype(tag);                       // float or uint16_t
//     kernel(elements<T>(x), elements<T>(y), n);
//   });
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace ptft::nn {

// A CPU tensor of fp32 or bf16: the kernels' element types.
inline bool kernel_dtype(const torch::Tensor& t) {
  return t.defined() && t.is_cpu() && (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16);
}

template <class T>
T* elements(const torch::Tensor& t);
template <>
inline float* elements<float>(const torch::Tensor& t) {
  return t.data_ptr<float>();
}
template <>
inline uint16_t* elements<uint16_t>(const torch::Tensor& t) {
  return reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>());
}

// f(float{}) for fp32, f(uint16_t{}) for bf16 (check kernel_dtype first).
template <class F>
decltype(auto) with_elements(torch::ScalarType type, F&& f) {
  if (type == torch::kFloat) return f(float{});
  return f(uint16_t{});
}

}  // namespace ptft::nn
