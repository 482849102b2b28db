// nn::gelu_tanh and nn::gelu_erf against the same functions in double precision (x sigmoid(2u),
// the value of libtorch's gelu(approximate="tanh"); x erfc(-x / sqrt 2) / 2, libtorch's gelu) and
// their autograd gradients: fp32 within 1e-5 relative (+1e-6 absolute on gradients), values at
// least as close (relative) as libtorch's own fp32 op; bf16 (inputs, weights of the gradient and
// results in bf16) within one bf16 step of the double result rounded, >= 99 % equal to it;
// special values, non-contiguous input; double runs libtorch's op itself.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../common/tensor_close.h"
#include "ptft/nn/gelu.h"

namespace ptft::nn {
namespace {

// Inputs: a wide normal spread, dense values near 0 and the tails where tanh saturates.
torch::Tensor inputs(torch::Dtype dtype) {
  torch::manual_seed(3);
  auto x = torch::cat({torch::randn({40000}) * 3, torch::linspace(-12, 12, 4801), torch::randn({2000}) * 1e-4,
                       torch::tensor({0.0f, -0.0f, 1e-30f, -1e-30f, 50.f, -50.f, 1e4f, -1e4f})});
  return x.to(dtype);
}

using test::expect_close;

// y and dL/dx for L = sum(y * w), by ours or by libtorch, in x's dtype; erf: the exact GELU.
std::pair<torch::Tensor, torch::Tensor> value_and_grad(const torch::Tensor& x0, const torch::Tensor& w, bool ours,
                                                       bool erf = false) {
  auto x = x0.detach().clone().requires_grad_(true);
  auto y = erf ? (ours ? gelu_erf(x) : torch::gelu(x)) : (ours ? gelu_tanh(x) : torch::gelu(x, "tanh"));
  (y * w).sum().backward();
  return {y.detach(), x.grad()};
}

// The reference: the same inputs in double, through x sigmoid(2u) = 0.5 x (1 + tanh(u)) (in the
// far negative tail 1 + tanh(u) cancels below double's own precision), or for the exact GELU
// through erfc, x Phi(x) = x erfc(-x / sqrt 2) / 2 (1 + erf cancels there); gradient by autograd.
std::pair<torch::Tensor, torch::Tensor> exact(const torch::Tensor& x0, const torch::Tensor& w, bool erf = false) {
  auto x = x0.to(torch::kDouble).requires_grad_(true);
  const double beta = std::sqrt(2.0 / M_PI), kappa = 0.044715;
  auto y = erf ? x * 0.5 * torch::erfc(-x / std::sqrt(2.0)) : x * torch::sigmoid(2 * beta * (x + kappa * x.pow(3)));
  (y * w.to(torch::kDouble)).sum().backward();
  return {y.detach(), x.grad()};
}

double max_relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const auto nonzero = want.abs() > 1e-30;  // within fp32's range
  return ((got.to(torch::kDouble) - want).abs() / want.abs()).masked_select(nonzero).max().item<double>();
}

TEST(GeluTanh, Fp32MatchesTheDoubleFunctionAndGradient) {
  const auto x = inputs(torch::kFloat);
  const auto w = torch::randn_like(x);
  const auto [y, dx] = value_and_grad(x, w, true);
  const auto [y_ref, dx_ref] = exact(x, w);
  // 1e-5: in the far negative tail (y ~ 1e-15 at x = -7) the rounding of x to fp32 alone moves
  // e^(-2u) by a few 1e-6.
  expect_close(y, y_ref, 1e-5, 1e-30, "forward");
  expect_close(dx, dx_ref, 1e-5, 1e-6, "gradient");
  // No worse than libtorch's fp32 op (a 1-ulp tanh, but 1 + tanh cancels in the negative tail).
  const auto [y_torch, dx_torch] = value_and_grad(x, w, false);
  EXPECT_LE(max_relative_error(y, y_ref), max_relative_error(y_torch, y_ref));
}

TEST(GeluTanh, Bf16IsTheDoubleResultRounded) {
  const auto x = inputs(torch::kBFloat16);
  const auto w = torch::randn_like(x);
  const auto [y, dx] = value_and_grad(x, w, true);
  const auto [y_ref, dx_ref] = exact(x, w);
  ASSERT_EQ(y.scalar_type(), torch::kBFloat16);
  ASSERT_EQ(dx.scalar_type(), torch::kBFloat16);
  // The gradient's reference takes dy = w as bf16 too (the product dy * gelu'(x) is rounded once).
  expect_close(y, y_ref, 1.0 / 128, 1e-20, "forward");  // one bf16 step: 2^-7 relative
  expect_close(dx, dx_ref, 1.0 / 128, 1e-20, "gradient");
  EXPECT_GE(y.eq(y_ref.to(torch::kBFloat16)).to(torch::kDouble).mean().item<double>(), 0.99);
  EXPECT_GE(dx.eq(dx_ref.to(torch::kBFloat16)).to(torch::kDouble).mean().item<double>(), 0.99);
}

TEST(GeluTanh, SpecialValuesAsLibtorch) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const auto x = torch::tensor({inf, nan, 0.0f, 9.5f, -9.5f});
  const auto y = gelu_tanh(x);
  EXPECT_EQ(y[0].item<float>(), inf);
  EXPECT_TRUE(std::isnan(y[1].item<float>()));
  EXPECT_EQ(y[2].item<float>(), 0.0f);
  EXPECT_NEAR(y[3].item<float>(), 9.5f, 1e-6);
  EXPECT_NEAR(y[4].item<float>(), 0.0f, 1e-6);
  EXPECT_TRUE(std::isnan(gelu_tanh(x.to(torch::kBFloat16))[1].item<float>()));
}

TEST(GeluTanh, NonContiguousInputAndGradient) {
  torch::manual_seed(5);
  const auto base = torch::randn({64, 96});
  const auto x = base.t();  // (96,64), not contiguous
  ASSERT_FALSE(x.is_contiguous());
  const auto w = torch::randn({64, 96}).t();
  const auto [y, dx] = value_and_grad(x, w, true);
  const auto [y_ref, dx_ref] = exact(x, w);
  expect_close(y, y_ref, 1e-5, 1e-30, "forward");
  expect_close(dx, dx_ref, 1e-5, 1e-6, "gradient");
}

TEST(GeluTanh, DoubleIsLibtorchsOp) {
  torch::manual_seed(7);
  const auto x = torch::randn({300}, torch::kDouble);
  EXPECT_TRUE(torch::equal(gelu_tanh(x), torch::gelu(x, "tanh")));
  auto xg = torch::randn({20}, torch::kDouble).requires_grad_(true);
  auto y = gelu_tanh(xg);
  auto dx = torch::autograd::grad({y.sum()}, {xg})[0];
  auto xr = xg.detach().clone().requires_grad_(true);
  auto dr = torch::autograd::grad({torch::gelu(xr, "tanh").sum()}, {xr})[0];
  EXPECT_TRUE(torch::allclose(dx, dr, 0, 0));
}

// --- exact GELU (erf) ----------------------------------------------------------------------------

TEST(GeluErf, Fp32MatchesTheDoubleFunctionAndGradient) {
  const auto x = inputs(torch::kFloat);
  const auto w = torch::randn_like(x);
  const auto [y, dx] = value_and_grad(x, w, true, /*erf=*/true);
  const auto [y_ref, dx_ref] = exact(x, w, /*erf=*/true);
  // Relative 1e-5 down to 1e-30 (x Phi(x) ~ 1e-34 at x = -12.3 leaves fp32's normal range).
  expect_close(y, y_ref, 1e-5, 1e-30, "forward");
  expect_close(dx, dx_ref, 1e-5, 1e-6, "gradient");
  // No worse than libtorch's fp32 op, which loses every digit of 1 + erf in the negative tail.
  const auto [y_torch, dx_torch] = value_and_grad(x, w, false, /*erf=*/true);
  EXPECT_LE(max_relative_error(y, y_ref), max_relative_error(y_torch, y_ref));
}

TEST(GeluErf, Bf16IsTheDoubleResultRounded) {
  const auto x = inputs(torch::kBFloat16);
  const auto w = torch::randn_like(x);
  const auto [y, dx] = value_and_grad(x, w, true, /*erf=*/true);
  const auto [y_ref, dx_ref] = exact(x, w, /*erf=*/true);
  ASSERT_EQ(y.scalar_type(), torch::kBFloat16);
  expect_close(y, y_ref, 1.0 / 128, 1e-30, "forward");
  expect_close(dx, dx_ref, 1.0 / 128, 1e-30, "gradient");
  EXPECT_GE(test::share_equal(y, y_ref.to(torch::kBFloat16)), 0.99);
  EXPECT_GE(test::share_equal(dx, dx_ref.to(torch::kBFloat16)), 0.99);
}

TEST(GeluErf, SpecialValuesAndDoubleAsLibtorch) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const auto y = gelu_erf(torch::tensor({inf, nan, 0.0f, 9.5f, -9.5f}));
  EXPECT_EQ(y[0].item<float>(), inf);
  EXPECT_TRUE(std::isnan(y[1].item<float>()));
  EXPECT_EQ(y[2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[3].item<float>(), 9.5f);
  EXPECT_NEAR(y[4].item<float>(), 0.0f, 1e-19);
  const auto xd = torch::randn({300}, torch::kDouble);
  EXPECT_TRUE(torch::equal(gelu_erf(xd), torch::gelu(xd)));
}

}  // namespace
}  // namespace ptft::nn
