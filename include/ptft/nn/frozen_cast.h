// ptft/nn/frozen_cast.h — a frozen weight's bf16 cast under CPU bf16 autocast, made once per
// version of the weight instead of at every forward.
//
//   nn::FrozenCast head_cast;                          // a member next to the weight's user
//   logits = nn::linear(x, head_cast.of(wte->weight));  // wte frozen: its bf16 cast, cached
//
// Under CPU bf16 autocast libtorch casts a weight to bf16 at every use and caches the cast only
// for weights that train: a frozen one (LoRA's base, freeze's layers, a tied output layer whose
// embedding is frozen) would be cast at every forward, and the cast kept for the backward. The
// cache is renewed when the weight changes (its version counter: an optimizer step, merge_lora, a
// load; or another tensor). The same rounding as autocast's cast, so results are bit-identical.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// What a cached cast of a weight was made from: its storage and its version counter (bumped by
// in-place torch ops: merge_lora, a load). Also nn::StackedLinear's key for its stacked cast.
struct CastSource {
  const void* data = nullptr;
  int64_t version = -1;
  static CastSource of(const torch::Tensor& weight) {
    return {weight.data_ptr(), static_cast<int64_t>(weight._version())};
  }
  bool operator==(const CastSource& o) const { return data == o.data && version == o.version; }
};

class FrozenCast {
 public:
  // `weight` itself when it trains, is not a float32 CPU tensor, or CPU bf16 autocast is off; else
  // its bf16 cast (held until the weight changes).
  const torch::Tensor& of(const torch::Tensor& weight);

 private:
  torch::Tensor cast_;  // bfloat16, of the weight as source_ says
  CastSource source_;
};

}  // namespace ptft::nn
