// Tests for ptft/train/center_sampling.h on hand-made grids (grid_points, models/detector.h) and boxes.
#include "ptft/train/center_sampling.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ptft
