// ptft/nn/attention.h — multi-head self-attention with the projections GPT-2 and BERT share.
//
// One fused input projection `c_attn` (C -> 3C: q, k, v) and an output projection `c_proj`, both
// nn::Linear so adapters can target them by name. Causal for GPT, bidirectional with a padding
// mask for BERT. An optional KV cache makes generation O(T) per token.
//
//   nn::SelfAttention attn(nn::SelfAttentionOptions(768, 12).causal(true).dropout(0.1));
//   y = attn->forward(x);                     // x: (B,T,C) -> (B,T,C)
//   y = attn->forward(x_new, &cache);         // cache: keys/values of earlier positions
#pragma once

#include <torch/torch.h>

#include "ptft/nn/linear.h"

namespace ptft::nn {

struct SelfAttentionOptions {
  SelfAttentionOptions(int64_t n_embd, int64_t n_head) : n_embd_(n_embd), n_head_(n_head) {}
  TORCH_ARG(int64_t, n_embd);
  TORCH_ARG(int64_t, n_head);
  TORCH_ARG(bool, causal) = true;
  TORCH_ARG(double, attn_dropout) = 0.0;   // on attention weights
  TORCH_ARG(double, resid_dropout) = 0.0;  // on the output projection
};

// Keys and values of the positions seen so far, per layer: (B, nh, T_past, hs).
struct KvCache {
  torch::Tensor k, v;
  int64_t length() const { return k.defined() ? k.size(2) : 0; }
};

class SelfAttentionImpl : public torch::nn::Cloneable<SelfAttentionImpl> {
 public:
  explicit SelfAttentionImpl(SelfAttentionOptions options);
  void reset() override;
  // x: (B,T,C). key_padding: optional (B,T_total) bool, true = padding (BERT). cache: appended.
  torch::Tensor forward(const torch::Tensor& x, KvCache* cache = nullptr,
                        const torch::Tensor& key_padding = {});

  SelfAttentionOptions options;
  Linear c_attn{nullptr};  // (3C, C)
  Linear c_proj{nullptr};  // (C, C)
};
TORCH_MODULE(SelfAttention);

}  // namespace ptft::nn
