// Tests for ptft/train/center_sampling.h on hand-made grids (grid_points, models/detector.h) and boxes,
// and against the assignment written in torch's ops (the form the loop replaced) on random scenes.
#include "ptft/train/center_sampling.h"

#include <gtest/gtest.h>

#include <limits>

#include "ptft/models/detector.h"  // grid_points

namespace ptft {
namespace {

TEST(CenterSampling, PositivesAreInsideTheBoxAndNearItsCentre) {
  // 8x8 grid, stride 4 (points at 2, 6, ..., 30). Box [0,0,32,32]: centre 16, radius 1 x 4 = 4:
  // the points with |x - 16| < 4 and |y - 16| < 4 are x, y in {14, 18}: 4 positives.
  auto pts = grid_points(8, 8, 4);
  auto a = center_sampling_assign(pts, torch::full({64}, 4.0), torch::tensor({{0.f, 0.f, 32.f, 32.f}}), 1.0);
  EXPECT_EQ(a.gt_index.ge(0).sum().item<int64_t>(), 4);
  // The point (14, 14) is index 3 * 8 + 3 = 27: distances 14, 14, 18, 18.
  EXPECT_EQ(a.gt_index[27].item<int64_t>(), 0);
  EXPECT_TRUE(torch::allclose(a.ltrb[27], torch::tensor({14.f, 14.f, 18.f, 18.f})));
  EXPECT_TRUE(torch::equal(a.ltrb[0], torch::zeros({4})));
  // With radius 2.5 (10 px): |d| < 10 -> x, y in {10, 14, 18, 22}: 16 positives.
  auto b = center_sampling_assign(pts, torch::full({64}, 4.0), torch::tensor({{0.f, 0.f, 32.f, 32.f}}), 2.5);
  EXPECT_EQ(b.gt_index.ge(0).sum().item<int64_t>(), 16);
}

TEST(CenterSampling, TheCentreRegionIsClippedToTheBoxAndAmbiguityGoesToTheSmallerBox) {
  auto pts = grid_points(8, 8, 4);
  // A thin box [12,0,16,32]: only points with 12 < x < 16 (x = 14) can be positive, though the
  // centre region (radius 10) is wider.
  auto a = center_sampling_assign(pts, torch::full({64}, 4.0), torch::tensor({{12.f, 0.f, 16.f, 32.f}}), 2.5);
  auto pos = a.gt_index.ge(0).nonzero().squeeze(1);
  ASSERT_GT(pos.numel(), 0);
  EXPECT_TRUE(pts.index_select(0, pos).select(1, 0).eq(14).all().item<bool>());
  // A big box and a small one over the same centre: the shared positives take the small one.
  auto two = torch::tensor({{0.f, 0.f, 32.f, 32.f}, {10.f, 10.f, 22.f, 22.f}});
  auto c = center_sampling_assign(pts, torch::full({64}, 4.0), two, 2.5);
  EXPECT_EQ(c.gt_index[27].item<int64_t>(), 1);  // (14, 14) is in both
  EXPECT_TRUE(torch::allclose(c.ltrb[27], torch::tensor({4.f, 4.f, 8.f, 8.f})));
  EXPECT_EQ(c.gt_index[2 * 8 + 2].item<int64_t>(), 0);  // (10, 10): on the small box's edge, so the big one
  // No ground truth: all background.
  auto none = center_sampling_assign(pts, torch::full({64}, 4.0), torch::zeros({0, 4}), 2.5);
  EXPECT_EQ(none.gt_index.ge(0).sum().item<int64_t>(), 0);
}

// The assignment in tensor ops: (P,G) distances, inside & central masks, the smallest area's box.
PointAssignment reference_assign(const torch::Tensor& points, const torch::Tensor& strides, const torch::Tensor& gt,
                                 double radius) {
  const int64_t P = points.size(0), G = gt.size(0);
  auto x = points.select(1, 0).view({P, 1}), y = points.select(1, 1).view({P, 1});
  auto x1 = gt.select(1, 0).view({1, G}), y1 = gt.select(1, 1).view({1, G});
  auto x2 = gt.select(1, 2).view({1, G}), y2 = gt.select(1, 3).view({1, G});
  auto ltrb = torch::stack({x - x1, y - y1, x2 - x, y2 - y}, 2);  // (P,G,4)
  auto inside = std::get<0>(ltrb.min(2)).gt(0);
  auto r = (strides * radius).view({P, 1});
  auto central = ((x - (x1 + x2) / 2).abs() < r) & ((y - (y1 + y2) / 2).abs() < r);
  auto area = ((x2 - x1) * (y2 - y1)).expand({P, G});
  auto cost = torch::where(inside & central, area, torch::full_like(area, std::numeric_limits<float>::infinity()));
  auto [best, idx] = cost.min(1);
  auto positive = torch::isfinite(best);
  auto picked = ltrb.gather(1, idx.view({P, 1, 1}).expand({P, 1, 4})).squeeze(1);
  return {torch::where(positive, idx, torch::full_like(idx, -1)),
          torch::where(positive.view({P, 1}), picked, torch::zeros_like(picked))};
}

TEST(CenterSampling, EqualsTheTensorFormulaOnRandomScenes) {
  torch::manual_seed(4);
  // Three levels of a 96 px image (strides 8, 16, 32), 1-12 boxes, some repeated (ties of area).
  const auto pts = torch::cat({grid_points(12, 12, 8), grid_points(6, 6, 16), grid_points(3, 3, 32)});
  const auto strides = torch::cat({torch::full({144}, 8.f), torch::full({36}, 16.f), torch::full({9}, 32.f)});
  for (int scene = 0; scene < 50; ++scene) {
    const int64_t G = 1 + scene % 12;
    auto corner = torch::rand({G, 2}) * 80, size = torch::rand({G, 2}) * 60 + 2;
    auto gt = torch::cat({corner, corner + size}, 1);  // (G,4)
    if (G > 2) gt[G - 1] = gt[0];                      // a tie
    const auto want = reference_assign(pts, strides, gt, 2.5);
    const auto got = center_sampling_assign(pts, strides, gt, 2.5);
    EXPECT_TRUE(got.gt_index.equal(want.gt_index)) << "scene " << scene;
    EXPECT_TRUE(got.ltrb.equal(want.ltrb)) << "scene " << scene;
  }
}

}  // namespace
}  // namespace ptft
