// nn::linear: a single row (a decode step) goes through the matrix-vector product and gives torch's
// linear within float rounding (1e-5 relative), with and without bias, for any leading shape;
// gradients flow through it; several rows and autocast take torch's linear unchanged (bit-equal),
// except rows of 3+ dimensions with a bias: one addmm from the bias over the rows as a matrix
// (bit-equal to it; torch's linear within 1e-6 in fp32, gradients within 1e-12 in double, and under
// bf16 autocast no farther from the float64 result than torch's linear, which rounds twice).
// A frozen nn::Linear under bf16 autocast multiplies by a bf16 cast made once per weight version:
// outputs and input gradients bit-equal to autocast's own casting, refreshed when the weight changes.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "ptft/nn/linear.h"

namespace ptft {
namespace {

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(Linear, OneRowEqualsTorchLinear) {
  torch::manual_seed(2);
  auto w = torch::randn({48, 20}), b = torch::randn({48});
  for (const auto& shape : std::vector<std::vector<int64_t>>{{20}, {1, 20}, {1, 1, 20}}) {
    auto x = torch::randn(shape);
    auto want = torch::nn::functional::linear(x, w, b);
    auto got = nn::linear(x, w, b);
    EXPECT_EQ(got.sizes(), want.sizes());
    EXPECT_LT(rel_diff(got, want), 1e-5);
    EXPECT_LT(rel_diff(nn::linear(x, w), torch::nn::functional::linear(x, w)), 1e-5);
  }
}

TEST(Linear, OneRowGradientsEqualTorchLinear) {
  torch::manual_seed(3);
  auto w = torch::randn({6, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  auto b = torch::randn({6}, torch::dtype(torch::kDouble).requires_grad(true));
  auto x = torch::randn({1, 1, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  auto g = torch::autograd::grad({nn::linear(x, w, b).pow(2).sum()}, {x, w, b});
  auto r = torch::autograd::grad({torch::nn::functional::linear(x, w, b).pow(2).sum()}, {x, w, b});
  for (size_t i = 0; i < g.size(); ++i) EXPECT_LT((g[i] - r[i]).abs().max().item<double>(), 1e-12) << i;
}

// torch's addmm from the bias over x's rows as a matrix: (..., in) -> (..., out).
torch::Tensor addmm_rows(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  auto shape = x.sizes().vec();
  shape.back() = w.size(0);
  return torch::addmm(b, x.reshape({-1, x.size(-1)}), w.t()).view(shape);
}

TEST(Linear, SeveralRowsAndAutocastAreTorchLinear) {
  torch::manual_seed(4);
  auto w = torch::randn({16, 8}), b = torch::randn({16}), x = torch::randn({3, 2, 8});
  EXPECT_TRUE(torch::equal(nn::linear(x, w), torch::nn::functional::linear(x, w)));  // no bias
  EXPECT_TRUE(torch::equal(nn::linear(x[0], w, b), torch::nn::functional::linear(x[0], w, b)));  // 2-D rows
  auto xt = torch::randn({2, 3, 8}).transpose(0, 1);  // not contiguous: torch's linear
  EXPECT_TRUE(torch::equal(nn::linear(xt, w, b), torch::nn::functional::linear(xt, w, b)));
  auto row = torch::randn({1, 8});
  at::autocast::set_cpu_enabled(true);
  auto got = nn::linear(row, w, b), want = torch::nn::functional::linear(row, w, b);
  at::autocast::set_cpu_enabled(false);
  EXPECT_EQ(got.scalar_type(), want.scalar_type());  // bf16 under autocast, as torch's
  EXPECT_TRUE(torch::equal(got, want));
}

TEST(Linear, RowsOfThreeOrMoreDimensionsWithABiasAreOneAddmm) {
  torch::manual_seed(6);
  auto w = torch::randn({64, 96}), b = torch::randn({64}), x = torch::randn({2, 3, 5, 96});
  auto got = nn::linear(x, w, b);
  EXPECT_EQ(got.sizes(), (std::vector<int64_t>{2, 3, 5, 64}));
  EXPECT_TRUE(torch::equal(got, addmm_rows(x, w, b)));
  EXPECT_LT(rel_diff(got, torch::nn::functional::linear(x, w, b)), 1e-6);

  // Under bf16 autocast: bf16 out, one rounding, against the float64 result.
  const auto exact = torch::nn::functional::linear(x.to(torch::kDouble), w.to(torch::kBFloat16).to(torch::kDouble),
                                                   b.to(torch::kBFloat16).to(torch::kDouble));
  const auto xb = x.to(torch::kBFloat16).to(torch::kFloat);  // autocast's rounding of x, made exact in fp32
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  auto bf = nn::linear(xb, w, b), twice = torch::nn::functional::linear(xb, w, b);
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  EXPECT_EQ(bf.scalar_type(), torch::kBFloat16);
  const double err = (bf.to(torch::kDouble) - exact).abs().max().item<double>();
  const double err_twice = (twice.to(torch::kDouble) - exact).abs().max().item<double>();
  EXPECT_LE(err, err_twice);
  EXPECT_LT(err / exact.abs().max().item<double>(), 1e-2);  // bf16's 8 bits
}

TEST(Linear, RowsWithABiasGiveTorchLinearsGradients) {
  torch::manual_seed(7);
  auto opts = torch::dtype(torch::kDouble).requires_grad(true);
  auto w = torch::randn({6, 5}, opts), b = torch::randn({6}, opts), x = torch::randn({2, 4, 5}, opts);
  auto g = torch::autograd::grad({nn::linear(x, w, b).pow(2).sum()}, {x, w, b});
  auto r = torch::autograd::grad({torch::nn::functional::linear(x, w, b).pow(2).sum()}, {x, w, b});
  for (size_t i = 0; i < g.size(); ++i) EXPECT_LT((g[i] - r[i]).abs().max().item<double>(), 1e-12) << i;
}

TEST(Linear, AFrozenWeightUnderBf16AutocastIsCastOncePerVersionBitExactly) {
  torch::manual_seed(5);
  nn::Linear m(nn::LinearOptions(24, 12));
  m->weight.set_requires_grad(false);  // frozen, as LoRA's base
  auto step = [&](const torch::Tensor& xin) {  // (output, input gradient) under bf16 autocast
    auto x = xin.clone().requires_grad_(true);
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    auto y = m->forward(x);
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    y.to(torch::kFloat32).pow(2).sum().backward();
    return std::make_pair(y.detach(), x.grad());
  };
  auto reference = [&](const torch::Tensor& xin) {  // torch's addmm from the bias, autocast casting the weight
    auto x = xin.clone().requires_grad_(true);
    at::autocast::set_cpu_enabled(true);
    auto y = addmm_rows(x, m->weight, m->bias);
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    y.to(torch::kFloat32).pow(2).sum().backward();
    return std::make_pair(y.detach(), x.grad());
  };
  const auto x = torch::randn({3, 5, 24});
  for (int round = 0; round < 2; ++round) {  // the second reads the cast of the first
    const auto [y, gx] = step(x);
    const auto [ry, rgx] = reference(x);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(y, ry)) << round;
    EXPECT_TRUE(torch::equal(gx, rgx)) << round;
  }
  {
    torch::NoGradGuard ng;
    m->weight.mul_(-2.0);  // a new version of the weight: cast again
  }
  const auto [y, gx] = step(x);
  const auto [ry, rgx] = reference(x);
  EXPECT_TRUE(torch::equal(y, ry));
  EXPECT_TRUE(torch::equal(gx, rgx));
}

}  // namespace
}  // namespace ptft
