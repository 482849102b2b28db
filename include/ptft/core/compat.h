// ptft/core/compat.h — the one place where libtorch version differences live.
//
// ptft builds against Debian's libtorch 1.13 (CPU) and against CUDA libtorch 2.x (the one inside
// a PyTorch 2.x install). Anything whose spelling differs between those versions goes through
// a function here; no other file tests TORCH_VERSION_*.
//
//   { compat::AutocastGuard guard(device, at::kBFloat16, /*enabled=*/true);  loss = forward(); }
#pragma once

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

namespace ptft::compat {

#define PTFT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

inline void set_autocast(c10::DeviceType type, bool enabled, at::ScalarType dtype) {
#if PTFT_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

inline bool autocast_enabled(c10::DeviceType type) {
#if PTFT_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

// The dtype autocast runs a matmul in on `type`'s devices while it is enabled there.
inline at::ScalarType autocast_dtype(c10::DeviceType type) {
#if PTFT_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

// The dtype a matmul of x runs in: autocast's where it is enabled for x's device, else x's own.
inline at::ScalarType matmul_dtype(const at::Tensor& x) {
  const auto type = x.device().type();
  return autocast_enabled(type) ? autocast_dtype(type) : x.scalar_type();
}

// Enables mixed precision for the forward pass in its scope (fp32 master weights stay as they
// are; matmuls/convs run in `dtype`). Restores the previous state and clears the cast cache.
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType type, at::ScalarType dtype, bool enabled)
      : type_(type), enabled_(enabled) {
    if (!enabled_) return;
    prev_ = autocast_enabled(type_);
    set_autocast(type_, true, dtype);
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    set_autocast(type_, prev_, type_ == c10::DeviceType::CUDA ? at::kHalf : at::kBFloat16);
    at::autocast::clear_cache();
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType type_;
  bool enabled_;
  bool prev_ = false;
};

// softmax(q k^T / sqrt(hs) + mask) v for q (B,nh,Tq,hs), k/v (B,nkv,Tk,hs) -> (B,nh,Tq,hs).
// Grouped-query attention when nkv < nh: query head h reads key/value head h / (nh / nkv) (HF's
// repeat_kv). causal: query i (the last Tq of Tk positions) sees keys 0..Tk-Tq+i (bottom-right
// aligned, so that a KV cache with Tq < Tk works). Uses the fused kernel where libtorch has one;
// otherwise `dropout` (default: libtorch's) drops attention probabilities with dropout_p.
// `softmax`, when given, turns the raw scores (B*nkv, rep*Tq, Tk) into probabilities itself, scale
// and causal mask included (nn::attention_softmax's signature).
using DropoutFn = at::Tensor (*)(const at::Tensor& x, double p, bool training);
using SoftmaxFn = at::Tensor (*)(const at::Tensor& scores, double scale, bool causal, int64_t tq);
inline at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool causal,
                            double dropout_p, DropoutFn dropout = at::dropout, SoftmaxFn softmax = nullptr) {
  const int64_t B = q.size(0), nh = q.size(1), nkv = k.size(1), rep = nh / nkv;
  const int64_t tq = q.size(-2), tk = k.size(-2), hs = q.size(-1), hv = v.size(-1);
#if PTFT_TORCH_AT_LEAST(2, 0)
  if (rep > 1) {  // (B,nkv,Tk,hs) -> (B,nh,Tk,hs)
    auto repeat = [&](const at::Tensor& t) {
      return t.unsqueeze(2).expand({B, nkv, rep, tk, t.size(-1)}).reshape({B, nh, tk, t.size(-1)});
    };
    return attention(q, repeat(k), repeat(v), causal, dropout_p, dropout, softmax);
  }
  if (!causal || tq == 1) return at::scaled_dot_product_attention(q, k, v, {}, dropout_p, false);
  if (tq == tk) return at::scaled_dot_product_attention(q, k, v, {}, dropout_p, true);
#endif
  // One batched GEMM per product, the query heads of one key/value head stacked as rows
  // ((B*nkv, rep*Tq, hs): k and v are never repeated). With `softmax`, it takes the raw scores.
  // Without, causal: the 1/sqrt(hs) scale is the GEMM's alpha and the mask its C input (0 where
  // visible, -inf where hidden, once per stacked head, broadcast over the batch: copied into the
  // scores before the product); unmasked: the scale goes on q (libtorch 1.13's small-matrix
  // baddbmm reads C even with beta 0, so none is passed).
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  auto q3 = q.reshape({B * nkv, rep * tq, hs});                         // (B*nkv,rep*Tq,hs)
  auto k3t = k.reshape({B * nkv, tk, hs}).transpose(1, 2);              // (B*nkv,hs,Tk)
  at::Tensor att;                                                       // (B*nkv,rep*Tq,Tk)
  if (softmax) {
    att = softmax(at::bmm(q3, k3t), scale, causal && tq > 1, tq);
  } else if (causal && tq > 1) {
    auto mask = at::full({tq, tk}, -std::numeric_limits<float>::infinity(), q.options()).triu_(tk - tq + 1);
    att = at::softmax(at::baddbmm(rep > 1 ? mask.repeat({rep, 1}) : mask, q3, k3t, /*beta=*/1.0, /*alpha=*/scale), -1);
  } else {
    att = at::softmax(at::bmm(q3 * scale, k3t), -1);
  }
  if (dropout_p > 0) att = dropout(att, dropout_p, true);
  return at::bmm(att, v.reshape({B * nkv, tk, hv})).view({B, nh, tq, hv});  // (B*nkv,rep*Tq,hv) -> (B,nh,Tq,hv)
}

}  // namespace ptft::compat
