// nn::dense_linear, the projection whose weight gradient reads dy transposed once: in float64 its
// output and gradients are torch's linear's within 1e-12; under CPU bf16 autocast its output is
// the addmm from the bias that autocast's cast operands give (bit-equal), its input gradient
// dy W bit-equal to autograd's, and its weight and bias gradients within bf16 rounding of the
// float64 products of the same bf16 operands. nn::linear routes several rows through a weight that
// trains under bf16 autocast here (its autograd node; bit-equal outputs and gradients), and keeps
// torch's addmm for a frozen weight or no autocast.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "ptft/core/compat.h"
#include "ptft/nn/dense_linear.h"
#include "ptft/nn/linear.h"

namespace ptft {
namespace {

using torch::autograd::grad;

// Whether y came out of the blocked projection op (nn::dense_linear's autograd node).
bool from_dense_op(const torch::Tensor& y) {
  return y.grad_fn() && y.grad_fn()->name().find("BlockedLinear") != std::string::npos;
}

TEST(DenseLinear, Float64IsTorchsLinear) {
  torch::manual_seed(1);
  auto opts = torch::dtype(torch::kDouble).requires_grad(true);
  auto x = torch::randn({3, 5, 12}, opts), w = torch::randn({7, 12}, opts), b = torch::randn({7}, opts);
  for (bool with_bias : {true, false}) {
    const auto bias = with_bias ? b : torch::Tensor();
    auto y = nn::dense_linear(x, w, bias), r = torch::nn::functional::linear(x, w, bias);
    EXPECT_EQ(y.sizes(), r.sizes());
    EXPECT_LT((y - r).abs().max().item<double>(), 1e-12);
    const auto dy = torch::randn_like(r);
    auto inputs = with_bias ? std::vector<torch::Tensor>{x, w, b} : std::vector<torch::Tensor>{x, w};
    auto g = grad({y}, inputs, {dy}), gr = grad({r}, inputs, {dy});
    for (size_t i = 0; i < g.size(); ++i) EXPECT_LT((g[i] - gr[i]).abs().max().item<double>(), 1e-12) << i;
  }
}

struct Bf16Case {
  torch::Tensor x, w, b, dy;  // float32 x, w, b that need gradients; bf16 dy (..., out)
};

Bf16Case bf16_case(int64_t rows, int64_t in, int64_t out) {
  Bf16Case c;
  c.x = torch::randn({2, rows / 2, in}).requires_grad_(true);
  c.w = (torch::randn({out, in}) * 0.1).requires_grad_(true);
  c.b = torch::randn({out}).requires_grad_(true);
  c.dy = torch::randn({2, rows / 2, out}).to(torch::kBFloat16);
  return c;
}

// (y, dx, dW, db) of f under CPU bf16 autocast.
template <class F>
std::vector<torch::Tensor> bf16_run(const Bf16Case& c, F&& f) {
  torch::Tensor y;
  {
    compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, true);
    y = f(c.x, c.w, c.b);
  }
  auto g = grad({y}, {c.x, c.w, c.b}, {c.dy});
  return {y, g[0], g[1], g[2]};
}

// Shapes: a small weight (dW from dy's transposed view) and one of 776 x 768 (dy transposed first,
// src/nn/linear_op_parts.cpp).
class DenseLinearBf16 : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t>> {};

TEST_P(DenseLinearBf16, GivesAutocastsAddmmAndDyWExactlyAndWeightGradientsWithinRounding) {
  torch::manual_seed(2);
  const auto [rows, in, out] = GetParam();
  const auto c = bf16_case(rows, in, out);
  const auto got = bf16_run(c, [](auto& x, auto& w, auto& b) { return nn::dense_linear(x, w, b); });
  const auto want = bf16_run(c, [](auto& x, auto& w, auto& b) {  // addmm from the bias, autograd's backward
    return torch::addmm(b, x.reshape({-1, x.size(-1)}), w.t()).view({x.size(0), x.size(1), w.size(0)});
  });
  EXPECT_EQ(got[0].scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(got[0], want[0]));  // y
  EXPECT_TRUE(torch::equal(got[1], want[1]));  // dx = dy W, cast to x's float32
  EXPECT_EQ(got[2].scalar_type(), torch::kFloat);
  EXPECT_EQ(got[3].scalar_type(), torch::kFloat);
  // dW = dy^T x and db = sum of dy's rows, against float64 products of the same bf16 values.
  const auto dy = c.dy.reshape({-1, c.w.size(0)}).to(torch::kDouble);
  const auto x = c.x.detach().reshape({-1, c.w.size(1)}).to(torch::kBFloat16).to(torch::kDouble);
  const auto dw = torch::mm(dy.t(), x), db = dy.sum(0);
  EXPECT_LT(((got[2].to(torch::kDouble) - dw).abs().max() / dw.abs().max()).item<double>(), 8e-3);  // bf16 out
  EXPECT_LT(((got[3].to(torch::kDouble) - db).abs().max() / db.abs().max()).item<double>(), 1e-6);  // fp32 sums
}

INSTANTIATE_TEST_SUITE_P(Shapes, DenseLinearBf16,
                         ::testing::Values(std::make_tuple(96, 80, 72), std::make_tuple(64, 768, 776)));

TEST(DenseLinear, NnLinearTakesItForAWeightThatTrainsUnderBf16Autocast) {
  torch::manual_seed(3);
  const auto c = bf16_case(64, 40, 48);
  const auto via_linear = bf16_run(c, [](auto& x, auto& w, auto& b) { return nn::linear(x, w, b); });
  EXPECT_TRUE(from_dense_op(via_linear[0]));
  const auto dense = bf16_run(c, [](auto& x, auto& w, auto& b) { return nn::dense_linear(x, w, b); });
  for (size_t i = 0; i < dense.size(); ++i) EXPECT_TRUE(torch::equal(via_linear[i], dense[i])) << i;
  // Without a bias too: (y, dx, dW) equal.
  torch::Tensor y1, y2;
  {
    compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, true);
    y1 = nn::linear(c.x, c.w);
    y2 = nn::dense_linear(c.x, c.w);
  }
  EXPECT_TRUE(from_dense_op(y1));
  EXPECT_TRUE(torch::equal(y1, y2));
  auto g1 = grad({y1}, {c.x, c.w}, {c.dy}), g2 = grad({y2}, {c.x, c.w}, {c.dy});
  EXPECT_TRUE(torch::equal(g1[0], g2[0]));
  EXPECT_TRUE(torch::equal(g1[1], g2[1]));
}

TEST(DenseLinear, NnLinearKeepsTorchsLinearForAFrozenWeightOrNoAutocast) {
  torch::manual_seed(4);
  auto x = torch::randn({2, 8, 16}).requires_grad_(true), w = torch::randn({24, 16}), b = torch::randn({24});
  {
    compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, true);  // w frozen
    auto want = torch::addmm(b, x.reshape({-1, 16}), w.t()).view({2, 8, 24});
    const auto y = nn::linear(x, w, b);
    EXPECT_FALSE(from_dense_op(y));
    EXPECT_TRUE(torch::equal(y, want));
  }
  w.requires_grad_(true);  // trains, float32 without autocast: torch's addmm from the bias
  auto want = torch::addmm(b, x.reshape({-1, 16}), w.t()).view({2, 8, 24});
  const auto y = nn::linear(x, w, b);
  EXPECT_FALSE(from_dense_op(y));
  EXPECT_TRUE(torch::equal(y, want));

}

}  // namespace
}  // namespace ptft
