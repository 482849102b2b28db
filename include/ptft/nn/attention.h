// ptft/nn/attention.h — multi-head self-attention, the block every transformer family shares.
//
// Projections (all nn::Linear, so adapters target them by name):
//   fused (GPT-2):  c_attn (C -> q|k|v) and c_proj (C -> C)
//   separate:       q, k, v, o under configurable module paths: Llama's q_proj, k_proj, v_proj,
//                   o_proj by default; BERT's self.query, self.key, self.value, output.dense
// Grouped-query attention: k and v have n_kv_head heads, each shared by n_head / n_kv_head query
// heads (repeated for the scores; the KV cache keeps n_kv_head). Causal for decoders,
// bidirectional with a padding mask for BERT. The head size may differ from n_embd / n_head
// (head_dim; Qwen3: q is n_head * head_dim wide). Optional per-head RMSNorm of q and k (Qwen3's
// q_norm, k_norm) precedes the position hook (rotary embeddings), which sees q and k before
// attention. An optional KV cache makes generation O(T) per token.
//
//   nn::SelfAttention attn(nn::SelfAttentionOptions(768, 12).causal(true).attn_dropout(0.1));  // GPT-2
//   nn::SelfAttention llama(nn::SelfAttentionOptions(4096, 32).fused(false).n_kv_head(8)
//                               .qkv_bias(false).o_bias(false).position_hook(rope));
//   y = attn->forward(x);                     // x: (B,T,C) -> (B,T,C)
//   y = attn->forward(x_new, &cache);         // cache: keys/values of earlier positions
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "ptft/nn/kv_cache.h"
#include "ptft/nn/linear.h"
#include "ptft/nn/module_path.h"
#include "ptft/nn/rms_norm.h"
#include "ptft/nn/stacked_bf16.h"
#include "ptft/nn/stacked_linear.h"

namespace ptft::nn {

// Module paths of the separate projections, relative to the attention module (dotted paths get
// container modules, nn/module_path.h).
struct AttentionProjectionNames {
  std::string q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj";  // Llama's
};

// Position encoding of queries and keys (rotary embeddings), applied before attention and before
// the keys enter the KV cache: q (B,nh,T,hs), k (B,n_kv_head,T,hs), replaced in place; `offset` is
// the position of the first of the T tokens (the cache's length, 0 without a cache).
using QkPositionHook = std::function<void(torch::Tensor& q, torch::Tensor& k, int64_t offset)>;

struct SelfAttentionOptions {
  SelfAttentionOptions(int64_t n_embd, int64_t n_head) : n_embd_(n_embd), n_head_(n_head) {}
  // q, k and v biases together (Llama: none; Qwen2: q/k/v with qkv_bias(true).o_bias(false)).
  SelfAttentionOptions& qkv_bias(bool b) { return q_bias(b).k_bias(b).v_bias(b); }
  int64_t kv_heads() const { return n_kv_head_ > 0 ? n_kv_head_ : n_head_; }
  int64_t head_size() const { return head_dim_ > 0 ? head_dim_ : n_embd_ / n_head_; }
  TORCH_ARG(int64_t, n_embd);
  TORCH_ARG(int64_t, n_head);
  TORCH_ARG(int64_t, n_kv_head) = 0;                 // key/value heads, dividing n_head; 0 = n_head
  TORCH_ARG(int64_t, head_dim) = 0;                  // per head; 0 = n_embd / n_head (separate projections only)
  TORCH_ARG(double, qk_norm_eps) = 0.0;              // > 0: RMSNorm over each head of q and k (q_norm, k_norm)
  TORCH_ARG(bool, fused) = true;                     // true: c_attn + c_proj; false: the four `names`
  TORCH_ARG(AttentionProjectionNames, names) = {};   // separate projections only
  TORCH_ARG(bool, q_bias) = true;                    // biases per projection (fused: q, k, v agree)
  TORCH_ARG(bool, k_bias) = true;
  TORCH_ARG(bool, v_bias) = true;
  TORCH_ARG(bool, o_bias) = true;
  TORCH_ARG(bool, causal) = true;
  TORCH_ARG(double, attn_dropout) = 0.0;             // on attention weights
  TORCH_ARG(double, resid_dropout) = 0.0;            // on the output projection
  TORCH_ARG(QkPositionHook, position_hook) = nullptr;
};

class SelfAttentionImpl : public PathCloneable<SelfAttentionImpl> {
 public:
  explicit SelfAttentionImpl(SelfAttentionOptions options);
  void reset() override;
  void bind();  // separate projections: the members <- the modules at their paths (PathCloneable)
  // x: (B,T,C). key_padding: optional (B,T_total) bool, true = padding (BERT). cache: appended.
  torch::Tensor forward(const torch::Tensor& x, KvCache* cache = nullptr,
                        const torch::Tensor& key_padding = {});
  // Separate projections holding bf16 decode weights (CausalLm::hold_decode_weights_bf16): q, k
  // and v stacked into one matrix for decode steps (nn/stacked_bf16.h). No-op when fused.
  void stack_decode_weights();

  SelfAttentionOptions options;
  Linear c_attn{nullptr};  // fused: (C + 2 nkv hs, C), rows q|k|v
  Linear c_proj{nullptr};  // fused: (C, C)
  Linear q_proj{nullptr};  // separate, at options.names().q: (nh hs, C)
  Linear k_proj{nullptr};  // (nkv hs, C)
  Linear v_proj{nullptr};  // (nkv hs, C)
  Linear o_proj{nullptr};  // (C, nh hs)
  RmsNorm q_norm{nullptr};  // (hs), with qk_norm_eps > 0
  RmsNorm k_norm{nullptr};  // (hs)

 private:
  StackedBf16 qkv_decode_;  // q|k|v rows for a decode step, after stack_decode_weights()
  StackedLinear qkv_;       // q|k|v as one product for several rows
};
TORCH_MODULE(SelfAttention);

}  // namespace ptft::nn
