// ptft/core/compat.h — the one place where libtorch version differences live.
//
// ptft builds against Debian's libtorch 1.13 (CPU) and against CUDA libtorch 2.x (the one inside
// a PyTorch 2.x install). Anything whose spelling differs between those versions goes through
// a function here; no other file tests TORCH_VERSION_*.
//
//   { compat::AutocastGuard guard(device, at::kBFloat16, /*enabled=*/true);  loss = forward(); }
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>
#include <torch/version.h>

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

}  // namespace ptft::compat
