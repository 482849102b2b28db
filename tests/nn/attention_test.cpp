// compat::attention (the scaled dot-product attention every ptft model uses) against the textbook
// formula softmax(q k^T / sqrt(hs) + mask) v, in double: outputs and the gradients of q, k and v,
// for causal self-attention, causal attention of a few new queries over a longer KV cache
// (bottom-right aligned), and unmasked attention.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ptft/core/compat.h"

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

void expect_matches_reference(int64_t tq, int64_t tk, bool causal) {
  SCOPED_TRACE("tq " + std::to_string(tq) + " tk " + std::to_string(tk) + (causal ? " causal" : ""));
  torch::manual_seed(3);
  auto opts = torch::TensorOptions().dtype(torch::kDouble).requires_grad(true);
  // q/k/v as the attention module makes them: transposed views of (B,T,nh,hs).
  auto q0 = torch::randn({2, tq, 3, 8}, opts), k0 = torch::randn({2, tk, 3, 8}, opts),
       v0 = torch::randn({2, tk, 3, 8}, opts);
  auto q = q0.transpose(1, 2), k = k0.transpose(1, 2), v = v0.transpose(1, 2);  // (B,nh,T,hs)
  auto w = torch::randn({2, 3, tq, 8}, torch::kDouble);  // a loss that weighs every output differently

  auto y = compat::attention(q, k, v, causal, 0.0);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, tq, 8}));
  auto grads = torch::autograd::grad({(y * w).sum()}, {q0, k0, v0});
  auto y_ref = reference(q, k, v, causal);
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

}  // namespace
}  // namespace ptft
