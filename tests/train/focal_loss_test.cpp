// Tests for ptft/train/focal_loss.h against the formula evaluated by hand.
#include "ptft/train/focal_loss.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptft {
namespace {

TEST(FocalLoss, MatchesTheFormula) {
  // x = 2, y = 1: p = sigmoid(2) = 0.880797; FL = -0.25 (1 - p)^2 log p.
  // x = 2, y = 0: p_t = 1 - p; FL = -0.75 p^2 log(1 - p).
  auto x = torch::tensor({2.0, 2.0}, torch::kDouble), y = torch::tensor({1.0, 0.0}, torch::kDouble);
  auto l = sigmoid_focal_loss(x, y, 0.25, 2.0);
  const double p = 1 / (1 + std::exp(-2.0));
  EXPECT_NEAR(l[0].item<double>(), -0.25 * std::pow(1 - p, 2) * std::log(p), 1e-12);
  EXPECT_NEAR(l[1].item<double>(), -0.75 * p * p * std::log(1 - p), 1e-12);
}

TEST(FocalLoss, GammaZeroAndNoAlphaIsBinaryCrossEntropy) {
  auto x = torch::randn({5, 3}, torch::kDouble), y = torch::randint(0, 2, {5, 3}).to(torch::kDouble);
  auto want = torch::binary_cross_entropy_with_logits(x, y, {}, {}, at::Reduction::None);
  EXPECT_TRUE(torch::allclose(sigmoid_focal_loss(x, y, -1, 0), want, 1e-12, 1e-12));
}

TEST(FocalLoss, EasyExamplesAreDownWeightedAndLargeLogitsStayFinite) {
  // A confidently right background point costs far less than under BCE.
  auto x = torch::tensor({-6.0}, torch::kDouble), y = torch::tensor({0.0}, torch::kDouble);
  const double bce = sigmoid_focal_loss(x, y, -1, 0).item<double>();
  EXPECT_LT(sigmoid_focal_loss(x, y, -1, 2).item<double>(), bce * 1e-4);
  auto big = torch::tensor({100.0, -100.0}), t = torch::tensor({0.0, 1.0});
  auto l = sigmoid_focal_loss(big, t);
  EXPECT_TRUE(torch::isfinite(l).all().item<bool>());
  EXPECT_GT(l.min().item<double>(), 1.0);  // confidently wrong: large
}

}  // namespace
}  // namespace ptft
