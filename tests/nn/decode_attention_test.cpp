// nn::decode_attention against softmax(q k^T / sqrt(hs)) v computed in double precision (relative
// 1e-5 of the output's scale), with grouped-query heads, head sizes off the 16-lane blocks, one to
// hundreds of cached positions, scores far apart (the softmax's maximum subtracted), a cache
// buffer narrowed to its used length; the kernel runs where it should and libtorch's ops elsewhere.
#include <gtest/gtest.h>

#include <cmath>

#include "ptft/core/error.h"
#include "ptft/nn/decode_attention.h"

namespace ptft {
namespace {

// q (B,nh,1,hs), k/v (B,nkv,L,hs) in double: query head h reads key/value head h / (nh / nkv).
torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t nh = q.size(1), nkv = k.size(1), hs = q.size(3);
  auto kd = k.to(torch::kDouble).repeat_interleave(nh / nkv, 1), vd = v.to(torch::kDouble).repeat_interleave(nh / nkv, 1);
  auto att = torch::softmax(torch::matmul(q.to(torch::kDouble), kd.transpose(-2, -1)) / std::sqrt(double(hs)), -1);
  return torch::matmul(att, vd);  // (B,nh,1,hs)
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got.to(torch::kDouble) - want).abs().max().item<double>() / (want.abs().max().item<double>() + 1e-12);
}

TEST(DecodeAttention, EqualsTheFormulaInDouble) {
  torch::NoGradGuard ng;
  torch::manual_seed(3);
  struct Case { int64_t B, nh, nkv, L, hs; double q_scale; };
  for (const Case& c : {Case{1, 12, 12, 1, 64, 1}, Case{1, 9, 3, 37, 64, 1}, Case{2, 4, 2, 300, 20, 1},
                        Case{1, 6, 1, 17, 7, 1}, Case{1, 8, 4, 129, 128, 30}}) {
    auto q = torch::randn({c.B, c.nh, 1, c.hs}) * c.q_scale;  // q_scale 30: scores hundreds apart
    auto k = torch::randn({c.B, c.nkv, c.L, c.hs}), v = torch::randn({c.B, c.nkv, c.L, c.hs});
    ASSERT_TRUE(nn::decode_attention_fused(q, k, v));
    auto y = nn::decode_attention(q, k, v);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{c.B, c.nh, 1, c.hs}));
    EXPECT_LT(relative_error(y, reference(q, k, v)), 1e-5) << "nh " << c.nh << " nkv " << c.nkv << " L " << c.L << " hs " << c.hs;
  }
}

TEST(DecodeAttention, ReadsACacheBufferNarrowedToItsLength) {
  torch::NoGradGuard ng;
  auto buf_k = torch::randn({1, 2, 64, 16}), buf_v = torch::randn({1, 2, 64, 16});  // capacity 64
  auto k = buf_k.narrow(2, 0, 10), v = buf_v.narrow(2, 0, 10);                       // 10 used
  auto q = torch::randn({1, 4, 1, 16});
  ASSERT_TRUE(nn::decode_attention_fused(q, k, v));
  EXPECT_LT(relative_error(nn::decode_attention(q, k, v), reference(q, k.contiguous(), v.contiguous())), 1e-5);
}

TEST(DecodeAttention, LibtorchOpsWhereTheKernelDoesNotApply) {
  auto q = torch::randn({1, 4, 1, 16}), k = torch::randn({1, 2, 5, 16}), v = torch::randn({1, 2, 5, 16});
  {
    torch::NoGradGuard ng;
    const auto qb = q.to(torch::kBFloat16), kb = k.to(torch::kBFloat16), vb = v.to(torch::kBFloat16);
    EXPECT_FALSE(nn::decode_attention_fused(qb, kb, vb));  // another dtype
    EXPECT_LT(relative_error(nn::decode_attention(qb, kb, vb), reference(q, k, v)), 3e-2);
    EXPECT_FALSE(nn::decode_attention_fused(q, k.transpose(2, 3).contiguous().transpose(2, 3), v));  // rows not contiguous
  }
  auto qg = q.clone().requires_grad_(true);  // gradients on: libtorch's ops, differentiable
  EXPECT_FALSE(nn::decode_attention_fused(qg, k, v));
  auto y = nn::decode_attention(qg, k, v);
  EXPECT_LT(relative_error(y.detach(), reference(q, k, v)), 1e-5);
  y.sum().backward();
  EXPECT_TRUE(qg.grad().defined());
  EXPECT_THROW(nn::decode_attention(torch::randn({1, 3, 1, 16}), k, v), Error);  // 2 kv heads do not divide 3
}

}  // namespace
}  // namespace ptft
