#include "ptft/nn/attention.h"

#include "ptft/core/compat.h"
#include "ptft/core/error.h"
#include "ptft/nn/attention_softmax.h"
#include "ptft/nn/decode_attention.h"
#include "ptft/nn/dropout.h"

#include <cmath>
#include <tuple>

namespace ptft::nn {
namespace {

// (B,nkv,T,hs) -> (B,nkv*rep,T,hs): query head h reads key/value head h / rep (HF's repeat_kv).
torch::Tensor repeat_kv(const torch::Tensor& t, int64_t rep) {
  if (rep == 1) return t;
  const int64_t B = t.size(0), nkv = t.size(1), T = t.size(2), hs = t.size(3);
  return t.unsqueeze(2).expand({B, nkv, rep, T, hs}).reshape({B, nkv * rep, T, hs});
}

}  // namespace

SelfAttentionImpl::SelfAttentionImpl(SelfAttentionOptions opts) : options(std::move(opts)) { reset(); }

void SelfAttentionImpl::reset() {
  const int64_t C = options.n_embd(), nh = options.n_head(), nkv = options.kv_heads();
  if (options.head_dim() == 0 && C % nh != 0)
    throw UserError("n_embd (" + std::to_string(C) + ") must be divisible by n_head (" + std::to_string(nh) + ")");
  if (nkv <= 0 || nh % nkv != 0)
    throw UserError("n_kv_head (" + std::to_string(nkv) + ") must divide n_head (" + std::to_string(nh) + ")",
                    "each key/value head serves n_head / n_kv_head query heads, e.g. n_head 32 with n_kv_head 8");
  const int64_t hs = options.head_size(), kv = nkv * hs;  // width of k and of v
  if (options.qk_norm_eps() > 0) {
    q_norm = register_module("q_norm", RmsNorm(RmsNormOptions(hs).eps(options.qk_norm_eps())));
    k_norm = register_module("k_norm", RmsNorm(RmsNormOptions(hs).eps(options.qk_norm_eps())));
  }
  if (options.fused()) {
    if (nh * hs != C)
      throw UserError("a fused q|k|v projection (c_attn) needs head_dim * n_head == n_embd",
                      "use separate projections (fused false) for another head size");
    if (options.k_bias() != options.q_bias() || options.v_bias() != options.q_bias())
      throw UserError("a fused q|k|v projection (c_attn) has one bias for all three",
                      "set q_bias, k_bias and v_bias alike, or use separate projections (fused false)");
    c_attn = register_module("c_attn", Linear(LinearOptions(C, C + 2 * kv).bias(options.q_bias())));
    c_proj = register_module("c_proj", Linear(LinearOptions(C, C).bias(options.o_bias())));
    return;
  }
  const AttentionProjectionNames& n = options.names();
  register_at(*this, n.q, Linear(LinearOptions(C, nh * hs).bias(options.q_bias())));
  register_at(*this, n.k, Linear(LinearOptions(C, kv).bias(options.k_bias())));
  register_at(*this, n.v, Linear(LinearOptions(C, kv).bias(options.v_bias())));
  register_at(*this, n.o, Linear(LinearOptions(nh * hs, C).bias(options.o_bias())));
  bind();
}

void SelfAttentionImpl::bind() {
  if (options.fused()) return;  // c_attn and c_proj are direct children: Cloneable keeps them
  const AttentionProjectionNames& n = options.names();
  q_proj = module_at<Linear>(*this, n.q);
  k_proj = module_at<Linear>(*this, n.k);
  v_proj = module_at<Linear>(*this, n.v);
  o_proj = module_at<Linear>(*this, n.o);
}

void SelfAttentionImpl::stack_decode_weights() {
  if (!options.fused()) qkv_decode_.stack({q_proj.get(), k_proj.get(), v_proj.get()});
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, KvCache* cache, const torch::Tensor& key_padding) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), nh = options.n_head(), nkv = options.kv_heads(),
                hs = options.head_size();
  torch::Tensor q, k, v;  // (B,T,nh*hs), (B,T,nkv*hs), (B,T,nkv*hs)
  if (options.fused()) {
    auto qkv = c_attn->forward(x).split_with_sizes({C, nkv * hs, nkv * hs}, 2);
    q = qkv[0];
    k = qkv[1];
    v = qkv[2];
  } else if (qkv_decode_.reads(x)) {  // a decode step: one gemv over q|k|v's stacked bf16 rows
    auto qkv = qkv_decode_.forward(x);
    q = qkv[0];
    k = qkv[1];
    v = qkv[2];
  } else {  // one product over q|k|v's rows when they stack (several rows), else each its own
    auto qkv = qkv_.forward({q_proj.get(), k_proj.get(), v_proj.get()}, x);
    q = qkv[0];
    k = qkv[1];
    v = qkv[2];
  }
  q = q.view({B, T, nh, hs});   // (B,T,nh*hs) -> (B,T,nh,hs)
  k = k.view({B, T, nkv, hs});  // (B,T,nkv*hs) -> (B,T,nkv,hs)
  if (q_norm) {                 // per head, before the positions (Qwen3)
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  q = q.transpose(1, 2);                        // (B,nh,T,hs)
  k = k.transpose(1, 2);                        // (B,nkv,T,hs)
  v = v.view({B, T, nkv, hs}).transpose(1, 2);
  if (options.position_hook()) options.position_hook()(q, k, cache ? cache->length() : 0);
  if (cache) std::tie(k, v) = cache->append(k, v);  // (B,nkv,T_past+T,hs) each
  const double p = is_training() ? options.attn_dropout() : 0.0;
  torch::Tensor y;
  if (T == 1 && p == 0 && !key_padding.defined()) {
    y = decode_attention(q, k, v);  // (B,nh,1,hs)
  } else if (key_padding.defined()) {
    k = repeat_kv(k, nh / nkv);  // (B,nkv,Tk,hs) -> (B,nh,Tk,hs)
    v = repeat_kv(v, nh / nkv);
    // Bidirectional with padding: an additive mask (B,1,1,Tk), -inf on padded keys.
    auto att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hs));  // (B,nh,T,Tk)
    att = att.masked_fill(key_padding.view({B, 1, 1, -1}), -std::numeric_limits<float>::infinity());
    att = torch::softmax(att, -1);
    att = nn::dropout(att, p, true);
    y = torch::matmul(att, v);                                // (B,nh,T,hs)
  } else {
    y = compat::attention(q, k, v, options.causal(), p, nn::dropout, nn::attention_softmax);  // (B,nh,T,hs), k/v (B,nkv,Tk,hs)
  }
  y = y.transpose(1, 2).contiguous().view({B, T, nh * hs});   // (B,nh,T,hs) -> (B,T,nh*hs)
  y = (options.fused() ? c_proj : o_proj)->forward(y);
  y = nn::dropout(y, options.resid_dropout(), is_training());
  return y;
}

}  // namespace ptft::nn
