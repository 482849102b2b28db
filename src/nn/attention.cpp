#include "ptft/nn/attention.h"

#include "ptft/core/compat.h"
#include "ptft/core/error.h"

namespace ptft::nn {

SelfAttentionImpl::SelfAttentionImpl(SelfAttentionOptions opts) : options(std::move(opts)) { reset(); }

void SelfAttentionImpl::reset() {
  if (options.n_embd() % options.n_head() != 0)
    throw UserError("n_embd (" + std::to_string(options.n_embd()) + ") must be divisible by n_head (" +
                    std::to_string(options.n_head()) + ")");
  c_attn = register_module("c_attn", Linear(LinearOptions(options.n_embd(), 3 * options.n_embd())));
  c_proj = register_module("c_proj", Linear(LinearOptions(options.n_embd(), options.n_embd())));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, KvCache* cache, const torch::Tensor& key_padding) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), nh = options.n_head(), hs = C / nh;
  auto qkv = c_attn->forward(x).split(C, 2);                 // 3 x (B,T,C)
  auto q = qkv[0].view({B, T, nh, hs}).transpose(1, 2);      // (B,T,C) -> (B,nh,T,hs)
  auto k = qkv[1].view({B, T, nh, hs}).transpose(1, 2);
  auto v = qkv[2].view({B, T, nh, hs}).transpose(1, 2);
  if (cache) {
    if (cache->k.defined()) {
      k = torch::cat({cache->k, k}, 2);                       // (B,nh,T_past+T,hs)
      v = torch::cat({cache->v, v}, 2);
    }
    cache->k = k;
    cache->v = v;
  }
  const double p = is_training() ? options.attn_dropout() : 0.0;
  torch::Tensor y;
  if (key_padding.defined()) {
    // Bidirectional with padding: an additive mask (B,1,1,Tk), -inf on padded keys.
    auto att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hs));  // (B,nh,T,Tk)
    att = att.masked_fill(key_padding.view({B, 1, 1, -1}), -std::numeric_limits<float>::infinity());
    att = torch::softmax(att, -1);
    if (p > 0) att = torch::dropout(att, p, true);
    y = torch::matmul(att, v);                                // (B,nh,T,hs)
  } else {
    y = compat::attention(q, k, v, options.causal(), p);     // (B,nh,T,hs)
  }
  y = y.transpose(1, 2).contiguous().view({B, T, C});         // (B,nh,T,hs) -> (B,T,C)
  y = c_proj->forward(y);
  if (is_training() && options.resid_dropout() > 0) y = torch::dropout(y, options.resid_dropout(), true);
  return y;
}

}  // namespace ptft::nn
