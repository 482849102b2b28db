// Tests for ptft/core/boxes.h: IoU and per-class NMS on hand-computed cases.
#include "ptft/core/boxes.h"

#include <gtest/gtest.h>

namespace ptft {
namespace {

TEST(Boxes, IouOfOverlappingDisjointNestedAndEmptyBoxes) {
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {5, 0, 15, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {10, 0, 20, 10}), 0.0);  // touching edges
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {2, 2, 7, 7}), 25.0 / 100.0);
  EXPECT_DOUBLE_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(iou({3, 3, 3, 9}, {0, 0, 10, 10}), 0.0);     // zero width
}

TEST(Boxes, NmsSuppressesOverlapsWithinAClassOnly) {
  std::vector<Detection> d = {
      {{0, 0, 10, 10}, 0, 0.6},   // overlaps the 0.9 one by 100/110: suppressed
      {{0, 0, 10, 11}, 0, 0.9},
      {{20, 20, 30, 30}, 0, 0.5}, // elsewhere: kept
      {{0, 0, 10, 10}, 1, 0.7},   // same place, other class: kept
      {{5, 0, 15, 10}, 0, 0.8},   // IoU 1/3 with the 0.9 box (below 0.5): kept
  };
  auto k = nms_per_class(d, 0.5, 0);
  ASSERT_EQ(k.size(), 4u);
  EXPECT_DOUBLE_EQ(k[0].score, 0.9);
  EXPECT_DOUBLE_EQ(k[1].score, 0.8);
  EXPECT_EQ(k[2].cls, 1);
  EXPECT_DOUBLE_EQ(k[3].score, 0.5);
  EXPECT_EQ(nms_per_class(d, 0.5, 2).size(), 2u);
  EXPECT_EQ(nms_per_class(d, 0.95, 0).size(), 5u);  // 0.91 < 0.95: nothing suppressed
}

}  // namespace
}  // namespace ptft
