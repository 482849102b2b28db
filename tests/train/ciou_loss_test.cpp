// Tests for ptft/train/ciou_loss.h against values computed by hand from the paper's formula.
#include "ptft/train/ciou_loss.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptft {
namespace {

torch::Tensor boxes(std::vector<double> v) {
  return torch::tensor(v, torch::kDouble).view({-1, 4});
}

TEST(CiouLoss, HandComputedCases) {
  // 1. identical boxes: 0.  2. disjoint 2x2 boxes 4 apart: IoU 0, rho^2 16, c^2 6^2 + 2^2 = 40 -> 1.4.
  // 3. [0,0,4,2] on the ground truth [0,0,2,2]: IoU 1/2, rho^2 1, c^2 20; v = 4/pi^2 (atan 1 - atan 2)^2,
  //    alpha = v / (1/2 + v) -> 1 - (1/2 - 1/20 - alpha v).
  auto pred = boxes({0, 0, 2, 2, 4, 0, 6, 2, 0, 0, 4, 2});
  auto gt = boxes({0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2});
  auto l = ciou_loss(pred, gt);
  const double v = 4 / (M_PI * M_PI) * std::pow(std::atan(1.0) - std::atan(2.0), 2);
  const double alpha = v / (0.5 + v);
  EXPECT_NEAR(l[0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(l[1].item<double>(), 1.4, 1e-6);
  EXPECT_NEAR(l[2].item<double>(), 1 - (0.5 - 0.05 - alpha * v), 1e-6);
  EXPECT_NEAR(l[2].item<double>(), 0.553248, 1e-6);
}

TEST(CiouLoss, GradientsPullThePredictionTowardsTheTarget) {
  auto pred = boxes({1, 1, 3, 4}).requires_grad_();
  auto gt = boxes({2, 2, 5, 5});
  ciou_loss(pred, gt).sum().backward();
  auto g = pred.grad()[0];
  // Gradient descent moves every coordinate towards the target's (all four are larger).
  for (int i = 0; i < 4; ++i) EXPECT_LT(g[i].item<double>(), 0.0) << i;
  // A step along -grad lowers the loss.
  auto stepped = (pred.detach() - 0.1 * pred.grad()).clone();
  EXPECT_LT(ciou_loss(stepped, gt).item<double>(), ciou_loss(pred.detach(), gt).item<double>());
}

TEST(CiouLoss, EmptyBoxesStayFinite) {
  auto pred = boxes({1, 1, 1, 1}).requires_grad_();  // zero size
  auto gt = boxes({0, 0, 2, 2});
  auto l = ciou_loss(pred, gt);
  l.sum().backward();
  EXPECT_TRUE(std::isfinite(l.item<double>()));
  EXPECT_TRUE(torch::isfinite(pred.grad()).all().item<bool>());
}

}  // namespace
}  // namespace ptft
