// ptft/nn/stacked_linear.h — projections that read the same input (q, k, v; gate, up) as one
// product when several rows go through them (training, prompts): one GEMM over their stacked
// rows forward, and in the backward one GEMM for the input's gradient (the engine no longer adds
// the parts' input gradients out of place) and one for the stacked weight gradient.
//
//   nn::StackedLinear qkv;                                        // a member of the calling module
//   auto parts = qkv.forward({q_proj.get(), k_proj.get(), v_proj.get()}, x);  // {q, k, v}, views
//
// With LoRA adapters of one scale and no adapter dropout the stack is one nn::lora_linear: the
// adapters' A matrices stacked (the input read once for all ranks) and their B matrices block-
// diagonal (each part's output gets only its own adapter's term; the zero blocks add exact zeros).
// Only under autocast, whose cast of each weight the stack replaces (without it the stack would be
// a second copy of the weights: fp32 training measured +230-275 MB peak RSS on the SmolLM2 shape).
// Frozen weights (LoRA's base) are stacked and cast once per version of any of them, as
// nn::FrozenCast does for one (the stack is dropped when they start to train: unfreezing); weights
// that train are cast and stacked at every forward (their gradients come back per part). Outputs
// equal each part's own forward up to the GEMM's summation order. The parts' forwards are used
// instead for one row, bf16 decode weights, no autocast, and parts that differ (bias, adapter,
// scale, dropout, frozen or not, dtype).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "ptft/nn/frozen_cast.h"
#include "ptft/nn/linear.h"

namespace ptft::nn {

class StackedLinear {
 public:
  // x (..., in) -> each part's output (..., out_i).
  std::vector<torch::Tensor> forward(const std::vector<LinearImpl*>& parts, const torch::Tensor& x);

 private:
  const torch::Tensor& frozen_stack(const std::vector<LinearImpl*>& parts, c10::ScalarType type);

  torch::Tensor frozen_;             // (sum out_i, in): the frozen weights' stacked cast
  std::vector<CastSource> sources_;  // what each weight was when frozen_ was made
};

}  // namespace ptft::nn
