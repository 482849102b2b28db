// nn::rms_norm (the fused CPU op of nn/rms_norm_kernel.h) against the formula in double precision
// (HF's LlamaRMSNorm: w * cast(x / sqrt(mean(x^2) + eps)), gradients by autograd with the cast's
// gradient the identity): fp32 within 1e-5 relative (gradients 1e-4 relative + 1e-6 of their
// scale: x's gradient cancels); bf16 input (the qk-norm of a model under bf16 autocast) against
// libtorch's ops of the same formula, >= 99 % equal and within one bf16 step, its gradient within
// one bf16 step of the double one; frozen weights, non-contiguous input, zero rows, the same
// weight gradient with 1 and 2 threads; double runs libtorch's ops.
#include <gtest/gtest.h>

#include "../common/tensor_close.h"
#include "ptft/nn/rms_norm.h"

namespace ptft::nn {
namespace {

using test::expect_close;

constexpr double kEps = 1e-5;

struct Result {
  torch::Tensor y, dx, dw;
};

// y and the gradients of L = sum(y * c) by nn::rms_norm (ours) or by the formula in libtorch's
// ops of x's precision.
Result run(const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& c, bool ours,
           bool train_w = true) {
  auto x = x0.detach().clone().requires_grad_(true);
  auto w = w0.detach().clone().requires_grad_(train_w);
  torch::Tensor y;
  if (ours) {
    y = rms_norm(x, w, kEps);
  } else {
    auto h = x.to(torch::kFloat);
    y = w * (h * torch::rsqrt(h.pow(2).mean(-1, true) + kEps)).to(x.scalar_type());
  }
  (y * c).sum().backward();
  return {y.detach(), x.grad(), train_w ? w.grad() : torch::Tensor()};
}

// The formula in double, the cast to x's dtype applied to the forward value only.
Result exact(const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& c) {
  auto x = x0.to(torch::kDouble).requires_grad_(true);
  auto w = w0.to(torch::kDouble).requires_grad_(true);
  auto h = x * torch::rsqrt(x.pow(2).mean(-1, true) + kEps);
  auto cast = h.to(x0.scalar_type()).to(torch::kDouble).detach();
  auto y = w * (h + (cast - h).detach());  // value: the cast; gradient: h's
  (y * c.to(torch::kDouble)).sum().backward();
  return {y.detach(), x.grad(), w.grad()};
}

torch::Tensor scale_of(const torch::Tensor& t) { return t.abs().max().to(torch::kDouble); }

TEST(RmsNorm, Fp32MatchesTheDoubleFormulaAndGradients) {
  torch::manual_seed(1);
  const auto x = torch::randn({3, 37, 576}) * 2 + 0.3;  // rows of SmolLM2's width
  const auto w = torch::randn({576}) * 0.5 + 1;
  const auto c = torch::randn({3, 37, 576});
  const auto got = run(x, w, c, true), want = exact(x, w, c);
  ASSERT_EQ(got.y.scalar_type(), torch::kFloat);
  expect_close(got.y, want.y, 1e-5, 1e-7, "y");
  expect_close(got.dx, want.dx, 1e-4, 1e-6 * scale_of(want.dx).item<double>(), "dx");
  expect_close(got.dw, want.dw, 1e-4, 1e-6 * scale_of(want.dw).item<double>(), "dw");
}

TEST(RmsNorm, Bf16InputAsLibtorchsOpsAndGradientAsTheDoubleOne) {
  torch::manual_seed(2);
  const auto x = (torch::randn({4, 9, 64}) * 3).to(torch::kBFloat16);  // (B,T,heads*64) -> per head of 64
  const auto w = torch::randn({64}) * 0.2 + 1;
  const auto c = torch::randn({4, 9, 64});
  const auto got = run(x, w, c, true), lib = run(x, w, c, false), want = exact(x, w, c);
  ASSERT_EQ(got.y.scalar_type(), torch::kFloat);  // bf16 x, fp32 weight: fp32, as w * h.to(bf16)
  ASSERT_EQ(got.dx.scalar_type(), torch::kBFloat16);
  EXPECT_GE(test::share_equal(got.y, lib.y), 0.99);
  expect_close(got.y, want.y, 1.0 / 128, 1e-7, "y");
  expect_close(got.dx, want.dx, 1.0 / 128, 1e-3 * scale_of(want.dx).item<double>(), "dx");
  expect_close(got.dw, want.dw, 1e-4, 1e-6 * scale_of(want.dw).item<double>(), "dw");
}

TEST(RmsNorm, FrozenWeightNonContiguousInputAndZeroRows) {
  torch::manual_seed(3);
  auto x = torch::randn({40, 6, 96}).transpose(0, 1);  // (6,40,96), not contiguous
  ASSERT_FALSE(x.is_contiguous());
  x = x.clone();
  x[2].zero_();  // rows of zeros: y = 0, dx = r dy w
  x = x.transpose(0, 1);
  const auto w = torch::randn({96});
  const auto c = torch::randn({40, 6, 96});
  const auto got = run(x, w, c, true, /*train_w=*/false), want = exact(x, w, c);
  EXPECT_FALSE(got.dw.defined());
  expect_close(got.y, want.y, 1e-5, 1e-7, "y");
  expect_close(got.dx, want.dx, 1e-4, 1e-6 * scale_of(want.dx).item<double>(), "dx");
  EXPECT_TRUE(torch::isfinite(got.dx).all().item<bool>());
}

TEST(RmsNorm, WeightGradientDoesNotDependOnThreads) {
  torch::manual_seed(4);
  const auto x = torch::randn({2000, 48}), w = torch::randn({48}), c = torch::randn({2000, 48});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = run(x, w, c, true);
  at::set_num_threads(2);
  const auto two = run(x, w, c, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.dw, two.dw));
  EXPECT_TRUE(torch::equal(one.dx, two.dx));
}

TEST(RmsNorm, DoubleAndBf16WeightsRunLibtorchsOps) {
  torch::manual_seed(5);
  const auto x = torch::randn({5, 32}, torch::kDouble), w = torch::randn({32}, torch::kDouble);
  const auto c = torch::randn({5, 32}, torch::kDouble);
  const auto ours = run(x, w, c, true), lib = run(x, w, c, false);
  EXPECT_TRUE(torch::equal(ours.y, lib.y));
  EXPECT_TRUE(torch::equal(ours.dx, lib.dx));
  const auto xb = x.to(torch::kBFloat16), wb = w.to(torch::kBFloat16);  // a model loaded in bf16
  EXPECT_TRUE(torch::equal(rms_norm(xb, wb, kEps), run(xb, wb, c, false).y));
}

TEST(RmsNorm, AWeightOfAnotherWidthIsRefused) {
  EXPECT_THROW(rms_norm(torch::randn({2, 8}), torch::ones({6}), kEps), c10::Error);
  EXPECT_THROW(rms_norm(torch::randn({2, 8}), torch::ones({2, 8}), kEps), c10::Error);
}

TEST(RmsNorm, ModuleUsesTheOp) {
  RmsNorm norm(RmsNormOptions(16).eps(kEps));
  torch::manual_seed(6);
  const auto x = torch::randn({3, 16});
  EXPECT_TRUE(torch::equal(norm->forward(x), rms_norm(x, norm->weight, kEps)));
}

}  // namespace
}  // namespace ptft::nn
