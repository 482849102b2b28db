// nn::linear: a single row (a decode step) goes through the matrix-vector product and gives torch's
// linear within float rounding (1e-5 relative), with and without bias, for any leading shape;
// gradients flow through it; several rows and autocast take torch's linear unchanged (bit-equal).
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

TEST(Linear, SeveralRowsAndAutocastAreTorchLinear) {
  torch::manual_seed(4);
  auto w = torch::randn({16, 8}), b = torch::randn({16}), x = torch::randn({3, 2, 8});
  EXPECT_TRUE(torch::equal(nn::linear(x, w, b), torch::nn::functional::linear(x, w, b)));
  auto row = torch::randn({1, 8});
  at::autocast::set_cpu_enabled(true);
  auto got = nn::linear(row, w, b), want = torch::nn::functional::linear(row, w, b);
  at::autocast::set_cpu_enabled(false);
  EXPECT_EQ(got.scalar_type(), want.scalar_type());  // bf16 under autocast, as torch's
  EXPECT_TRUE(torch::equal(got, want));
}

}  // namespace
}  // namespace ptft
