// nn::swiglu (silu(gate) * up as the fused CPU op of nn/swiglu_kernel.h) against the formula in
// double precision with autograd's gradients: fp32 within 1e-5 relative (+1e-7 of the gradients'
// scale); bf16 (inputs, dy and results in bf16) within one bf16 step of the double result,
// >= 99 % equal to it rounded; extreme and special gates; mixed dtypes and double run libtorch's
// ops.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../common/tensor_close.h"
#include "ptft/nn/swiglu.h"

namespace ptft::nn {
namespace {

using test::expect_close;

struct Result {
  torch::Tensor y, dg, du;
};

// y and the gradients of L = sum(y * c), by ours or by libtorch's silu(g) * u.
Result run(const torch::Tensor& g0, const torch::Tensor& u0, const torch::Tensor& c, bool ours) {
  auto g = g0.detach().clone().requires_grad_(true);
  auto u = u0.detach().clone().requires_grad_(true);
  auto y = ours ? swiglu(g, u) : torch::silu(g) * u;
  (y * c).sum().backward();
  return {y.detach(), g.grad(), u.grad()};
}

Result exact(const torch::Tensor& g0, const torch::Tensor& u0, const torch::Tensor& c) {
  auto g = g0.to(torch::kDouble).requires_grad_(true);
  auto u = u0.to(torch::kDouble).requires_grad_(true);
  auto y = g * torch::sigmoid(g) * u;
  (y * c.to(torch::kDouble)).sum().backward();
  return {y.detach(), g.grad(), u.grad()};
}

// Gates: a wide normal spread, a dense ramp through the bend, and the saturated tails.
torch::Tensor gates() {
  torch::manual_seed(11);
  return torch::cat({torch::randn({30000}) * 3, torch::linspace(-20, 20, 4001),
                     torch::tensor({0.0f, -0.0f, 90.f, -90.f, 1e4f, -1e4f})});
}

TEST(SwiGlu, Fp32MatchesTheDoubleFormulaAndGradients) {
  const auto g = gates(), u = torch::randn_like(g), c = torch::randn_like(g);
  const auto got = run(g, u, c, true), want = exact(g, u, c);
  expect_close(got.y, want.y, 1e-5, 1e-30, "y");
  expect_close(got.dg, want.dg, 1e-5, 1e-7 * want.dg.abs().max().item<double>(), "dgate");
  expect_close(got.du, want.du, 1e-5, 1e-30, "dup");
}

TEST(SwiGlu, Bf16IsTheDoubleResultRounded) {
  const auto g = gates().to(torch::kBFloat16), u = torch::randn({g.numel()}).to(torch::kBFloat16);
  const auto c = torch::randn({g.numel()}).to(torch::kBFloat16);
  const auto got = run(g, u, c, true), want = exact(g, u, c);
  ASSERT_EQ(got.y.scalar_type(), torch::kBFloat16);
  ASSERT_EQ(got.dg.scalar_type(), torch::kBFloat16);
  expect_close(got.y, want.y, 1.0 / 128, 1e-30, "y");  // one bf16 step: 2^-7 relative
  expect_close(got.dg, want.dg, 1.0 / 128, 1e-30, "dgate");
  expect_close(got.du, want.du, 1.0 / 128, 1e-30, "dup");
  EXPECT_GE(test::share_equal(got.y, want.y.to(torch::kBFloat16)), 0.99);
  EXPECT_GE(test::share_equal(got.dg, want.dg.to(torch::kBFloat16)), 0.99);
  // Closer to the exact result than libtorch's two roundings (silu, then the product).
  const auto lib = run(g, u, c, false);
  EXPECT_GE(test::share_equal(got.y, want.y.to(torch::kBFloat16)),
            test::share_equal(lib.y, want.y.to(torch::kBFloat16)));
}

TEST(SwiGlu, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const auto g = torch::tensor({inf, nan, 0.0f, 100.0f, -100.0f, 1.0f});
  const auto u = torch::tensor({1.0f, 1.0f, 5.0f, 2.0f, 2.0f, nan});
  const auto y = swiglu(g, u);
  EXPECT_EQ(y[0].item<float>(), inf);
  EXPECT_TRUE(std::isnan(y[1].item<float>()));
  EXPECT_EQ(y[2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[3].item<float>(), 200.0f);
  EXPECT_NEAR(y[4].item<float>(), 0.0f, 1e-30);
  EXPECT_TRUE(std::isnan(y[5].item<float>()));
}

TEST(SwiGlu, NonContiguousAndMixedOrDoubleInputsRunLibtorchsOps) {
  torch::manual_seed(12);
  const auto g = torch::randn({64, 48}).t(), u = torch::randn({64, 48}).t(), c = torch::randn({48, 64});
  ASSERT_FALSE(g.is_contiguous());
  const auto got = run(g, u, c, true), want = exact(g, u, c);
  expect_close(got.y, want.y, 1e-5, 1e-30, "y");
  expect_close(got.dg, want.dg, 1e-5, 1e-6, "dgate");
  const auto mixed_u = u.to(torch::kBFloat16);
  EXPECT_TRUE(torch::equal(swiglu(g, mixed_u), torch::silu(g) * mixed_u));
  const auto gd = g.to(torch::kDouble), ud = u.to(torch::kDouble);
  EXPECT_TRUE(torch::equal(swiglu(gd, ud), torch::silu(gd) * ud));
}

}  // namespace
}  // namespace ptft::nn
