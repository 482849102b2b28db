// Tests for ptft/train/grad_norm.h: the global gradient norm against libtorch's
// torch::nn::utils::clip_grad_norm_ (its returned total norm; relative 1e-6: ours sums squares in
// fp32 partial sums and double, libtorch takes fp32 norms per tensor), on gradients the fast path
// reads (dense fp32, longer than one 64 Ki chunk, transposed) and those it leaves to libtorch
// (bf16, sparse), the same value on 1 and 2 threads, and clipping's coefficient.
#include "ptft/train/grad_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ptft {
namespace {

torch::Tensor with_grad(torch::Tensor grad) {
  auto p = torch::zeros_like(grad.is_sparse() ? grad.to_dense() : grad).set_requires_grad(true);
  p.mutable_grad() = std::move(grad);
  return p;
}

double torch_norm(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> copies;
  for (const auto& p : params) {
    auto c = p.detach().to(torch::kDouble).set_requires_grad(true);
    if (p.grad().defined()) c.mutable_grad() = p.grad().to_dense().to(torch::kDouble);
    copies.push_back(c);
  }
  return torch::nn::utils::clip_grad_norm_(copies, 1e30);
}

TEST(GradNorm, EqualsLibtorchsTotalNorm) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> params = {
      with_grad(torch::randn({300, 700})),                               // 210000 values: four chunks
      with_grad(torch::randn({64, 48}).t()),                             // transposed: dense, not contiguous
      with_grad(torch::randn({5})),                                      // shorter than 16 lanes
      with_grad(torch::randn({33, 7}).to(torch::kBFloat16)),             // left to libtorch
      with_grad(torch::randn({10, 4}).mul_(torch::rand({10, 1}).lt(0.3)).to_sparse()),
      torch::zeros({3}).set_requires_grad(true),                         // no gradient: skipped
  };
  const double want = torch_norm(params);
  const double got = grad_norm(params);
  EXPECT_NEAR(got, want, 1e-6 * want);
  EXPECT_GT(want, 100.0);
}

TEST(GradNorm, IsTheSameOnAnyThreadCount) {
  torch::manual_seed(2);
  std::vector<torch::Tensor> params = {with_grad(torch::randn({1000, 301})), with_grad(torch::randn({77}))};
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const double one = grad_norm(params);
  at::set_num_threads(2);
  const double two = grad_norm(params);
  at::set_num_threads(threads);
  EXPECT_EQ(one, two);
}

TEST(GradNorm, NoGradientsIsZeroAndANonFiniteGradientIsNotFinite) {
  EXPECT_EQ(grad_norm({torch::zeros({2}).set_requires_grad(true)}), 0.0);
  auto g = torch::ones({100});
  g[37] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(grad_norm({with_grad(g)})));
  g[37] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isinf(grad_norm({with_grad(g)})));
}

TEST(ClipCoefficient, ScalesOnlyAboveTheLimit) {
  EXPECT_DOUBLE_EQ(clip_coefficient(4.0, 1.0), 1.0 / (4.0 + 1e-6));
  EXPECT_EQ(clip_coefficient(0.5, 1.0), 1.0);
  EXPECT_LT(clip_coefficient(1.0, 1.0), 1.0);  // 1 / (1 + 1e-6): scales, as torch does
  EXPECT_EQ(clip_coefficient(1e9, 0.0), 1.0);  // max_norm 0: measured, not clipped
}

}  // namespace
}  // namespace ptft
