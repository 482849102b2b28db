// nn::attention_softmax (attention's probabilities from raw scores: scale, causal mask and
// softmax in one op) against the formula in double: fp32 within 1e-6 (probabilities) and 1e-5
// (gradient), bf16 within one bf16 step of the formula on the rounded inputs; hidden keys exactly
// 0 with bottom-right causal alignment (Tq < Tk, a KV cache) and stacked query heads (rows of
// rep * Tq); the same bits on one thread and on two; double takes libtorch's ops. compat::attention
// with it equals compat::attention without it. Scores that are not whole heads, or more causal
// queries than keys, are refused before the kernel writes outside a row.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <limits>

#include "../common/tensor_close.h"
#include "ptft/core/compat.h"
#include "ptft/core/error.h"
#include "ptft/nn/attention_softmax.h"

namespace ptft {
namespace {

torch::Tensor formula(const torch::Tensor& s, double scale, bool causal, int64_t tq) {
  const int64_t tk = s.size(-1);
  auto d = s.to(torch::kDouble) * scale;
  if (causal) {
    const auto hidden = torch::ones({tq, tk}, torch::kBool).triu_(tk - tq + 1);
    d = d.view({-1, tq, tk}).masked_fill(hidden, -std::numeric_limits<double>::infinity()).view(s.sizes());
  }
  return torch::softmax(d, -1);
}

struct Case {
  bool causal;
  int64_t rep, tq, tk;
};
const Case kCases[] = {{true, 1, 37, 37}, {true, 2, 5, 21}, {false, 1, 9, 40}, {true, 3, 33, 33}};

torch::Tensor scores_for(const Case& c, torch::ScalarType type) {
  return (3 * torch::randn({2, c.rep * c.tq, c.tk})).to(type);  // (G, rep*Tq, Tk)
}

TEST(AttentionSoftmax, Fp32EqualsTheFormulaAndHiddenKeysAreZero) {
  torch::manual_seed(31);
  for (const Case& c : kCases) {
    const auto s = scores_for(c, torch::kFloat).requires_grad_(true);
    const auto p = nn::attention_softmax(s, 0.125, c.causal, c.tq);
    const auto want = formula(s, 0.125, c.causal, c.tq);
    test::expect_close(p, want, 1e-6, 1e-7, "probabilities");
    EXPECT_TRUE(torch::equal(p.eq(0), want.eq(0))) << "hidden keys exactly zero";
    const auto r = torch::randn(p.sizes(), torch::kDouble);
    const auto g = torch::autograd::grad({(p.to(torch::kDouble) * r).sum()}, {s})[0];
    const auto sd = s.detach().to(torch::kDouble).requires_grad_(true);
    const auto gw = torch::autograd::grad({(formula(sd, 0.125, c.causal, c.tq) * r).sum()}, {sd})[0];
    test::expect_close(g, gw, 1e-5, 1e-6, "gradient");
  }
}

TEST(AttentionSoftmax, Bf16IsWithinABf16StepOfTheFormula) {
  torch::manual_seed(32);
  for (const Case& c : kCases) {
    const auto s = scores_for(c, torch::kBFloat16).requires_grad_(true);
    const auto p = nn::attention_softmax(s, 0.125, c.causal, c.tq);
    EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
    const auto want = formula(s.detach(), 0.125, c.causal, c.tq);
    test::expect_close(p, want, 1.0 / 256, 1e-7, "probabilities");  // rounded once
    const auto dp = torch::randn(p.sizes()).to(torch::kBFloat16);
    const auto g = torch::autograd::grad({p}, {s}, {dp})[0];
    EXPECT_EQ(g.scalar_type(), torch::kBFloat16);
    // The gradient from the saved (rounded) probabilities, in double: scale p (dp - <p, dp>).
    const auto pd = p.detach().to(torch::kDouble), dpd = dp.to(torch::kDouble);
    const auto gw = 0.125 * pd * (dpd - (pd * dpd).sum(-1, true));
    test::expect_close_bf16(g, gw, 1.0 / 128, "gradient");
  }
}

TEST(AttentionSoftmax, OneThreadAndTwoGiveTheSameBits) {
  torch::manual_seed(33);
  const Case c{true, 2, 64, 64};
  for (auto type : {torch::kFloat, torch::kBFloat16}) {
    const auto s = scores_for(c, type).requires_grad_(true);
    const auto dp = torch::randn({2, c.rep * c.tq, c.tk}).to(type);
    const int threads = at::get_num_threads();
    std::vector<torch::Tensor> out;
    for (int n : {1, 2}) {
      at::set_num_threads(n);
      const auto p = nn::attention_softmax(s, 0.25, c.causal, c.tq);
      out.push_back(p.detach());
      out.push_back(torch::autograd::grad({p}, {s}, {dp})[0]);
    }
    at::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(out[0], out[2]));
    EXPECT_TRUE(torch::equal(out[1], out[3]));
  }
}

TEST(AttentionSoftmax, DoubleTakesLibtorchsOpsWithTheSameFormula) {
  torch::manual_seed(34);
  for (const Case& c : kCases) {
    const auto s = scores_for(c, torch::kDouble);
    test::expect_close(nn::attention_softmax(s, 0.5, c.causal, c.tq), formula(s, 0.5, c.causal, c.tq), 1e-12, 1e-15,
                       "probabilities");
  }
}

TEST(AttentionSoftmax, RowsThatAreNotWholeHeadsOrMoreQueriesThanKeysAreRefused) {
  const auto s = torch::randn({2, 10, 8});
  EXPECT_THROW(nn::attention_softmax(s, 1.0, /*causal=*/true, /*tq=*/10), InternalError);  // Tq 10 > Tk 8
  EXPECT_THROW(nn::attention_softmax(s, 1.0, /*causal=*/false, /*tq=*/3), InternalError);  // 10 rows, heads of 3
  EXPECT_NO_THROW(nn::attention_softmax(s, 1.0, /*causal=*/false, /*tq=*/10));             // unmasked: any Tk
}

TEST(AttentionSoftmax, CompatAttentionWithItEqualsWithout) {
  torch::manual_seed(35);
  for (const Case& c : {Case{true, 2, 6, 6}, Case{true, 1, 3, 11}, Case{false, 1, 7, 7}}) {
    const int64_t nkv = 2, hs = 8;
    const auto q = torch::randn({2, nkv * c.rep, c.tq, hs}), k = torch::randn({2, nkv, c.tk, hs}),
               v = torch::randn({2, nkv, c.tk, hs});
    const auto got = compat::attention(q, k, v, c.causal, 0.0, at::dropout, nn::attention_softmax);
    const auto want = compat::attention(q, k, v, c.causal, 0.0);
    test::expect_close(got, want, 1e-5, 1e-6, "attention output");
  }
}

}  // namespace
}  // namespace ptft
