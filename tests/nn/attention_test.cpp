// compat::attention (the scaled dot-product attention every ptft model uses) against the textbook
// formula softmax(q k^T / sqrt(hs) + mask) v, in double: outputs and the gradients of q, k and v,
// for causal self-attention, causal attention of a few new queries over a longer KV cache
// (bottom-right aligned), unmasked attention, each also with grouped query heads (k/v repeated
// per head for the reference).
// nn::SelfAttention, in double (tolerance 1e-12): grouped-query attention equals full attention
// whose k/v projections repeat each key/value head by hand; separate projections equal the fused
// c_attn with the same weights; the position hook gets the cache offset (a rotary hook makes cached
// generation equal the full forward); the cache keeps n_kv_head heads; bias flags, names, clone.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../common/user_error.h"
#include "ptft/core/compat.h"
#include "ptft/core/error.h"
#include "ptft/nn/attention.h"

namespace ptft {
namespace {

torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool causal) {
  const int64_t tq = q.size(-2), tk = k.size(-2);
  auto att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));  // (B,nh,Tq,Tk)
  if (causal) {
    // Query i is position tk - tq + i: it sees keys 0 .. tk - tq + i.
    auto i = torch::arange(tq).unsqueeze(1) + (tk - tq), j = torch::arange(tk).unsqueeze(0);
    att = att.masked_fill(j > i, -std::numeric_limits<double>::infinity());
  }
  return torch::matmul(torch::softmax(att, -1), v);  // (B,nh,Tq,hs)
}

// nkv < nh: grouped-query attention, query head h reading key/value head h / (nh / nkv).
void expect_matches_reference(int64_t tq, int64_t tk, bool causal, int64_t nh = 3, int64_t nkv = 3) {
  SCOPED_TRACE("tq " + std::to_string(tq) + " tk " + std::to_string(tk) + (causal ? " causal" : "") + " heads " +
               std::to_string(nh) + "/" + std::to_string(nkv));
  torch::manual_seed(3);
  auto opts = torch::TensorOptions().dtype(torch::kDouble).requires_grad(true);
  // q/k/v as the attention module makes them: transposed views of (B,T,nh,hs).
  auto q0 = torch::randn({2, tq, nh, 8}, opts), k0 = torch::randn({2, tk, nkv, 8}, opts),
       v0 = torch::randn({2, tk, nkv, 8}, opts);
  auto q = q0.transpose(1, 2), k = k0.transpose(1, 2), v = v0.transpose(1, 2);  // (B,nh,T,hs), (B,nkv,T,hs)
  auto w = torch::randn({2, nh, tq, 8}, torch::kDouble);  // a loss that weighs every output differently

  auto y = compat::attention(q, k, v, causal, 0.0);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, nh, tq, 8}));
  auto grads = torch::autograd::grad({(y * w).sum()}, {q0, k0, v0});
  auto y_ref = reference(q, k.repeat_interleave(nh / nkv, 1), v.repeat_interleave(nh / nkv, 1), causal);
  auto grads_ref = torch::autograd::grad({(y_ref * w).sum()}, {q0, k0, v0});

  EXPECT_TRUE(torch::allclose(y, y_ref, 1e-10, 1e-12)) << (y - y_ref).abs().max();
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::allclose(grads[i], grads_ref[i], 1e-10, 1e-12)) << "grad " << i << ": "
                                                                       << (grads[i] - grads_ref[i]).abs().max();
}

TEST(Attention, CausalSelfAttentionMatchesTheFormula) { expect_matches_reference(7, 7, true); }

TEST(Attention, NewQueriesOverALongerCacheAreBottomRightAligned) {
  expect_matches_reference(3, 10, true);
  expect_matches_reference(1, 10, true);
}

TEST(Attention, UnmaskedMatchesTheFormula) { expect_matches_reference(5, 9, false); }

TEST(Attention, GroupedQueryHeadsReadTheirKeyValueHead) {
  expect_matches_reference(7, 7, true, 6, 2);
  expect_matches_reference(3, 10, true, 6, 3);
  expect_matches_reference(1, 10, true, 4, 1);
  expect_matches_reference(5, 9, false, 6, 2);
}

// --- nn::SelfAttention ---------------------------------------------------------------------------

constexpr double kTol = 1e-12;  // double precision: the two computations differ only in rounding

nn::SelfAttention attention(const nn::SelfAttentionOptions& o) {
  torch::manual_seed(5);
  nn::SelfAttention a(o);
  a->to(torch::kDouble);
  a->eval();
  {
    torch::NoGradGuard ng;  // biases are zero-initialised: make them matter
    for (auto& p : a->parameters()) p.normal_(0.0, 0.3);
  }
  return a;
}

// (nkv*hs, ...) rows of key/value heads -> (nkv*rep*hs, ...): each head's rows `rep` times in a row.
torch::Tensor repeat_heads(const torch::Tensor& w, int64_t nkv, int64_t rep) {
  auto shape = w.sizes().vec();
  auto heads = w.reshape({nkv, -1}).repeat_interleave(rep, 0);  // (nkv*rep, hs*...)
  shape[0] *= rep;
  return heads.reshape(shape);
}

void copy_linear(nn::LinearImpl& to, const torch::Tensor& weight, const torch::Tensor& bias) {
  torch::NoGradGuard ng;
  to.weight.copy_(weight);
  if (bias.defined()) to.bias.copy_(bias);
}

TEST(SelfAttention, GroupedQueryEqualsFullAttentionWithKvHeadsRepeatedByHand) {
  for (bool causal : {true, false}) {
    SCOPED_TRACE(causal ? "causal" : "bidirectional with padding");
    const int64_t C = 24, nh = 6, nkv = 2, rep = nh / nkv;
    auto gqa = attention(nn::SelfAttentionOptions(C, nh).fused(false).n_kv_head(nkv).causal(causal));
    auto full = attention(nn::SelfAttentionOptions(C, nh).fused(false).causal(causal));
    ASSERT_EQ(gqa->k_proj->weight.sizes(), (std::vector<int64_t>{nkv * 4, C}));
    copy_linear(*full->q_proj, gqa->q_proj->weight, gqa->q_proj->bias);
    copy_linear(*full->o_proj, gqa->o_proj->weight, gqa->o_proj->bias);
    copy_linear(*full->k_proj, repeat_heads(gqa->k_proj->weight, nkv, rep), repeat_heads(gqa->k_proj->bias, nkv, rep));
    copy_linear(*full->v_proj, repeat_heads(gqa->v_proj->weight, nkv, rep), repeat_heads(gqa->v_proj->bias, nkv, rep));
    auto x = torch::randn({2, 7, C}, torch::kDouble);
    torch::Tensor pad;
    if (!causal) pad = torch::tensor({{0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 1, 1}}, torch::kBool);
    auto a = gqa->forward(x, nullptr, pad), b = full->forward(x, nullptr, pad);
    EXPECT_LT((a - b).abs().max().item<double>(), kTol);
  }
}

TEST(SelfAttention, SeparateProjectionsEqualTheFusedOneWithTheSameWeights) {
  for (int64_t nkv : {4, 2}) {
    SCOPED_TRACE("n_kv_head " + std::to_string(nkv));
    const int64_t C = 16, kv = nkv * 4;
    auto fused = attention(nn::SelfAttentionOptions(C, 4).n_kv_head(nkv));
    auto separate = attention(nn::SelfAttentionOptions(C, 4).n_kv_head(nkv).fused(false));
    const auto& w = fused->c_attn->weight;  // (C + 2 kv, C): rows q | k | v
    const auto& bias = fused->c_attn->bias;
    copy_linear(*separate->q_proj, w.slice(0, 0, C), bias.slice(0, 0, C));
    copy_linear(*separate->k_proj, w.slice(0, C, C + kv), bias.slice(0, C, C + kv));
    copy_linear(*separate->v_proj, w.slice(0, C + kv), bias.slice(0, C + kv));
    copy_linear(*separate->o_proj, fused->c_proj->weight, fused->c_proj->bias);
    auto x = torch::randn({2, 5, C}, torch::kDouble);
    EXPECT_LT((fused->forward(x) - separate->forward(x)).abs().max().item<double>(), kTol);
    // ... and step by step through a cache.
    nn::KvCache cf, cs;
    fused->forward(x.slice(1, 0, 3), &cf);
    separate->forward(x.slice(1, 0, 3), &cs);
    auto yf = fused->forward(x.slice(1, 3), &cf), ys = separate->forward(x.slice(1, 3), &cs);
    EXPECT_LT((yf - ys).abs().max().item<double>(), kTol);
  }
}

// Rotary embeddings (Llama's half-split form) at positions offset .. offset + T - 1.
torch::Tensor rotate(const torch::Tensor& x, int64_t offset) {  // (B,h,T,hs)
  const int64_t T = x.size(2), half = x.size(3) / 2;
  auto pos = torch::arange(offset, offset + T, x.options()).unsqueeze(1);                 // (T,1)
  auto ang = pos * torch::pow(10000.0, -torch::arange(0, half, x.options()) / half);      // (T,half)
  auto cos = torch::cat({ang.cos(), ang.cos()}, -1), sin = torch::cat({ang.sin(), ang.sin()}, -1);  // (T,hs)
  return x * cos + torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1) * sin;
}

TEST(SelfAttention, PositionHookGetsTheCacheOffsetDuringCachedGeneration) {
  struct Call {
    int64_t offset, q_heads, k_heads, tokens;
  };
  std::vector<Call> calls;
  const int64_t C = 16, nh = 4, nkv = 2;
  auto a = attention(nn::SelfAttentionOptions(C, nh).fused(false).n_kv_head(nkv).qkv_bias(false).o_bias(false)
                         .position_hook([&](torch::Tensor& q, torch::Tensor& k, int64_t offset) {
                           calls.push_back({offset, q.size(1), k.size(1), q.size(2)});
                           q = rotate(q, offset);
                           k = rotate(k, offset);
                         }));
  auto x = torch::randn({2, 7, C}, torch::kDouble);
  auto whole = a->forward(x);  // (B,7,C): every position at once, offset 0
  nn::KvCache cache;
  std::vector<torch::Tensor> steps = {a->forward(x.slice(1, 0, 4), &cache)};  // a prompt of 4, then 1 by 1
  for (int64_t t = 4; t < 7; ++t) steps.push_back(a->forward(x.slice(1, t, t + 1), &cache));
  ASSERT_EQ(calls.size(), 5u);
  const std::vector<std::pair<int64_t, int64_t>> want = {{0, 7}, {0, 4}, {4, 1}, {5, 1}, {6, 1}};  // (offset, T)
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].offset, want[i].first) << "call " << i;
    EXPECT_EQ(calls[i].tokens, want[i].second) << "call " << i;
    EXPECT_EQ(calls[i].q_heads, nh);
    EXPECT_EQ(calls[i].k_heads, nkv);
  }
  // The cached keys are the rotated ones: generation step by step equals the whole forward.
  EXPECT_LT((torch::cat(steps, 1) - whole).abs().max().item<double>(), kTol);
}

TEST(SelfAttention, CacheKeepsTheKeyValueHeads) {
  auto a = attention(nn::SelfAttentionOptions(24, 6).fused(false).n_kv_head(3));
  nn::KvCache cache;
  a->forward(torch::randn({2, 5, 24}, torch::kDouble), &cache);
  a->forward(torch::randn({2, 1, 24}, torch::kDouble), &cache);
  EXPECT_EQ(cache.keys().sizes(), (std::vector<int64_t>{2, 3, 6, 4}));  // (B, n_kv_head, T, hs)
  EXPECT_EQ(cache.values().sizes(), (std::vector<int64_t>{2, 3, 6, 4}));
  EXPECT_EQ(cache.length(), 6);
}

std::vector<std::string> parameter_names(const nn::SelfAttention& a) {
  std::vector<std::string> names;
  for (const auto& p : a->named_parameters()) names.push_back(p.key());
  return names;
}

TEST(SelfAttention, NamesAndBiasFlags) {
  EXPECT_EQ(parameter_names(nn::SelfAttention(nn::SelfAttentionOptions(16, 4))),
            (std::vector<std::string>{"c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias"}));
  // Llama: no biases.
  EXPECT_EQ(parameter_names(nn::SelfAttention(nn::SelfAttentionOptions(16, 4).fused(false).qkv_bias(false).o_bias(false))),
            (std::vector<std::string>{"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"}));
  // Qwen2: q/k/v biases only, two key/value heads.
  nn::SelfAttention qwen(nn::SelfAttentionOptions(16, 4).fused(false).n_kv_head(2).o_bias(false));
  EXPECT_EQ(parameter_names(qwen), (std::vector<std::string>{"q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias",
                                                             "v_proj.weight", "v_proj.bias", "o_proj.weight"}));
  EXPECT_EQ(qwen->v_proj->weight.sizes(), (std::vector<int64_t>{8, 16}));
  // BERT: dotted paths.
  nn::AttentionProjectionNames bert;
  bert.q = "self.query";
  bert.k = "self.key";
  bert.v = "self.value";
  bert.o = "output.dense";
  nn::SelfAttention b(nn::SelfAttentionOptions(16, 4).fused(false).names(bert));
  EXPECT_EQ(parameter_names(b), (std::vector<std::string>{"self.query.weight", "self.query.bias", "self.key.weight",
                                                          "self.key.bias", "self.value.weight", "self.value.bias",
                                                          "output.dense.weight", "output.dense.bias"}));
  EXPECT_TRUE(b->named_parameters()["self.key.weight"].is_same(b->k_proj->weight));
  // Errors.
  auto e = test::user_error([] { nn::SelfAttention(nn::SelfAttentionOptions(16, 4).n_kv_head(3)); });
  EXPECT_NE(e.find("n_kv_head (3) must divide n_head (4)"), std::string::npos) << e;
  e = test::user_error([] { nn::SelfAttention(nn::SelfAttentionOptions(16, 4).k_bias(false)); });
  EXPECT_NE(e.find("fused q|k|v projection"), std::string::npos) << e;
}

TEST(SelfAttention, CloneOfSeparateProjectionsIsADeepCopy) {
  nn::AttentionProjectionNames names;
  names.q = "self.query";
  names.o = "output.dense";
  auto a = attention(nn::SelfAttentionOptions(16, 4).fused(false).names(names).n_kv_head(2));
  auto c = std::dynamic_pointer_cast<nn::SelfAttentionImpl>(a->clone());
  ASSERT_TRUE(c);
  auto x = torch::randn({1, 3, 16}, torch::kDouble);
  EXPECT_TRUE(torch::equal(a->forward(x), c->forward(x)));
  EXPECT_TRUE(c->named_parameters()["self.query.weight"].is_same(c->q_proj->weight));
  EXPECT_TRUE(c->named_parameters()["output.dense.bias"].is_same(c->o_proj->bias));
  EXPECT_FALSE(c->q_proj->weight.is_same(a->q_proj->weight));
  {
    torch::NoGradGuard ng;
    c->q_proj->weight.add_(1.0);
  }
  EXPECT_FALSE(torch::allclose(a->forward(x), c->forward(x)));
}

}  // namespace
}  // namespace ptft
