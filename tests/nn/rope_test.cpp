// nn::Rotary::apply (the fused CPU op of nn/rope_kernel.h for fp32 and bf16) against rotary
// embeddings written out in double precision (x cos + rotate_half(x) sin with HF's tables, the
// gradient by autograd): fp32 within 1e-5 of the values' scale; bf16 (tables rounded to bf16 as
// HF casts them) within one bf16 step of the scale; the (B,T,H,D) -> (B,H,T,D) transposed views
// that attention passes, a position offset (a KV cache), double through libtorch's ops.
#include <gtest/gtest.h>

#include <cmath>

#include "../common/tensor_close.h"
#include "ptft/nn/rotary.h"

namespace ptft::nn {
namespace {

using test::expect_close;

constexpr int64_t kHead = 64, kPositions = 128;
constexpr double kTheta = 10000.0;

// The tables in double: angle(p, i) = p theta^(-2i/d), each half repeated.
std::pair<torch::Tensor, torch::Tensor> tables(int64_t offset, int64_t T) {
  auto pos = torch::arange(offset, offset + T, torch::kDouble).unsqueeze(1);                        // (T,1)
  auto inv = torch::pow(kTheta, -torch::arange(0, kHead, 2, torch::kDouble) / static_cast<double>(kHead));
  auto ang = pos * inv;                                                                               // (T,d/2)
  return {torch::cat({ang.cos(), ang.cos()}, -1), torch::cat({ang.sin(), ang.sin()}, -1)};           // (T,d)
}

// y and dL/dx for L = sum(y * c): ours (through Rotary) or the double reference, the tables
// rounded to x's dtype as HF does.
std::pair<torch::Tensor, torch::Tensor> run(const torch::Tensor& x0, const torch::Tensor& c, int64_t offset,
                                            bool ours) {
  if (ours) {
    Rotary rope(kHead, kTheta, RopeScaling{}, kPositions);
    auto x = x0.detach().clone().requires_grad_(true);  // (B,T,H,D) leaf
    auto q = x.transpose(1, 2), k = x.transpose(1, 2);   // (B,H,T,D) views, as attention passes them
    rope.apply(q, k, offset);
    ((q + k) * c).sum().backward();
    return {q.detach(), x.grad().transpose(1, 2) / 2};
  }
  auto x = x0.to(torch::kDouble).transpose(1, 2).detach().requires_grad_(true);  // (B,H,T,D)
  auto [cos, sin] = tables(offset, x.size(2));
  cos = cos.to(x0.scalar_type()).to(torch::kDouble);
  sin = sin.to(x0.scalar_type()).to(torch::kDouble);
  const int64_t h = kHead / 2;
  auto y = x * cos + torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1) * sin;
  (y * c.to(torch::kDouble)).sum().backward();
  return {y.detach(), x.grad()};
}

TEST(Rope, Fp32MatchesTheDoubleFormulaAndGradient) {
  torch::manual_seed(21);
  const auto x = torch::randn({2, 40, 3, kHead}) * 2;  // (B,T,H,D)
  const auto c = torch::randn({2, 3, 40, kHead});
  for (int64_t offset : {0, 37}) {
    const auto [y, dx] = run(x, c, offset, true);
    const auto [y_ref, dx_ref] = run(x, c, offset, false);
    ASSERT_EQ(y.scalar_type(), torch::kFloat);
    expect_close(y, y_ref, 0, 1e-5 * y_ref.abs().max().item<double>(), "y");
    expect_close(dx, dx_ref, 0, 1e-5 * dx_ref.abs().max().item<double>(), "dx");
  }
}

TEST(Rope, Bf16WithinOneStep) {
  torch::manual_seed(22);
  const auto x = (torch::randn({2, 17, 2, kHead}) * 3).to(torch::kBFloat16);
  const auto c = torch::randn({2, 2, 17, kHead}).to(torch::kBFloat16);
  const auto [y, dx] = run(x, c, 5, true);
  const auto [y_ref, dx_ref] = run(x, c, 5, false);
  ASSERT_EQ(y.scalar_type(), torch::kBFloat16);
  ASSERT_EQ(dx.scalar_type(), torch::kBFloat16);
  // One bf16 step (2^-8 relative, rounding to nearest) of the rotated pair's scale |x| + |x'|.
  expect_close(y, y_ref, 1.0 / 128, 4.0 / 256, "y");
  expect_close(dx, dx_ref, 1.0 / 128, 4.0 / 256, "dx");
  EXPECT_GE(test::share_equal(y, y_ref.to(torch::kBFloat16)), 0.95);
}

TEST(Rope, AHeadOfAnotherSizeIsRefused) {
  Rotary rope(kHead, kTheta, RopeScaling{}, kPositions);
  auto q = torch::randn({1, 2, 5, kHead / 2}), k = q.clone();  // head size 32 for tables of 64
  EXPECT_THROW(rope.apply(q, k, 0), c10::Error);
}

TEST(Rope, DoubleRunsLibtorchsOps) {
  torch::manual_seed(23);
  const auto x = torch::randn({1, 9, 2, kHead}, torch::kDouble), c = torch::randn({1, 2, 9, kHead}, torch::kDouble);
  const auto [y, dx] = run(x, c, 3, true);
  const auto [y_ref, dx_ref] = run(x, c, 3, false);
  expect_close(y, y_ref, 1e-6, 1e-6, "y");  // the tables are fp32 in ptft
  expect_close(dx, dx_ref, 1e-6, 1e-6, "dx");
}

}  // namespace
}  // namespace ptft::nn
