// ptft/nn/gated_feed_forward.h — the gated MLP of Llama-family transformers (SwiGLU, Shazeer
// 2020): down_proj(act(gate_proj(x)) * up_proj(x)), act = SiLU. Projections are nn::Linear
// under HF's names (mlp.gate_proj, mlp.up_proj, mlp.down_proj), so adapters target them by name.
//
//   nn::GatedFeedForward mlp(nn::GatedFeedForwardOptions(576, 1536));
//   y = mlp->forward(x);   // (B,T,C) -> (B,T,C)
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptft/nn/linear.h"
#include "ptft/nn/stacked_bf16.h"
#include "ptft/nn/stacked_linear.h"

namespace ptft::nn {

struct GatedFeedForwardOptions {
  GatedFeedForwardOptions(int64_t n_embd, int64_t n_inner) : n_embd_(n_embd), n_inner_(n_inner) {}
  TORCH_ARG(int64_t, n_embd);
  TORCH_ARG(int64_t, n_inner);
  TORCH_ARG(bool, bias) = false;                 // Llama's mlp_bias
  TORCH_ARG(std::string, activation) = "silu";   // silu (SwiGLU) | gelu_tanh (GeGLU)
};

class GatedFeedForwardImpl : public torch::nn::Cloneable<GatedFeedForwardImpl> {
 public:
  explicit GatedFeedForwardImpl(GatedFeedForwardOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  // After hold_bf16_copy() of the projections: gate and up stacked into one matrix for decode
  // steps (nn/stacked_bf16.h).
  void stack_decode_weights();

  GatedFeedForwardOptions options;
  Linear gate_proj{nullptr};  // (I, C)
  Linear up_proj{nullptr};    // (I, C)
  Linear down_proj{nullptr};  // (C, I)

 private:
  StackedBf16 gate_up_decode_;  // gate|up rows for a decode step
  StackedLinear gate_up_;       // gate|up as one product for several rows
};
TORCH_MODULE(GatedFeedForward);

}  // namespace ptft::nn
