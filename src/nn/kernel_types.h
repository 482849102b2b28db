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

#include <algorithm>
#include <cstdint>
#include <vector>

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

// An element's value (bf16: its bits widened).
inline float value_of(float v) { return v; }
inline float value_of(uint16_t bits) { return static_cast<float>(c10::BFloat16(bits, c10::BFloat16::from_bits())); }

// A 1-d tensor's values (per-channel parameters, statistics and saved values: a few hundred at
// most) read and written through their data, not tensor ops: a normalisation's call is on the
// step's serial path, where each small op costs the OpenMP worker a wait.
inline std::vector<double> to_doubles(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat && t.is_contiguous() && t.is_cpu())
    return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
  if (t.scalar_type() == torch::kDouble && t.is_contiguous() && t.is_cpu())
    return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
  const auto f = t.to(torch::kDouble).contiguous();
  return {f.data_ptr<double>(), f.data_ptr<double>() + f.numel()};
}

// Per-channel values v (C of them) repeated over n lanes, lane j holding channel j mod C: the
// layout the normalisation kernels read (nn/batch_norm_kernel.h).
inline std::vector<float> repeat_lanes(const std::vector<double>& v, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) out[j] = static_cast<float>(v[static_cast<size_t>(j) % v.size()]);
  return out;
}

inline torch::Tensor tensor_of(const std::vector<double>& v, torch::ScalarType type) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, type);
  if (type == torch::kDouble) std::copy(v.begin(), v.end(), t.data_ptr<double>());
  else std::transform(v.begin(), v.end(), t.data_ptr<float>(), [](double d) { return static_cast<float>(d); });
  return t;
}

}  // namespace ptft::nn
