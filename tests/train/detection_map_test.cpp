// Tests for ptft/train/detection_map.h against hand-computed cases
// (pycocotools' rules: greedy matching by score to the best unmatched ground truth with
// IoU >= t, monotone precision envelope, 101 recall points from np.linspace(0, 1, 101)).
#include "ptft/train/detection_map.h"

#include <gtest/gtest.h>

namespace ptft {
namespace {

Box square(double x, double y, double side) { return {x, y, x + side, y + side}; }

TEST(DetectionMap, PerfectDetectionsScoreOne) {
  DetectionEvaluator ev(2);
  ev.add({{square(0, 0, 10), 0}, {square(50, 50, 20), 1}}, {{square(0, 0, 10), 0, 0.9}, {square(50, 50, 20), 1, 0.8}});
  ev.add({{square(5, 5, 10), 1}}, {{square(5, 5, 10), 1, 0.7}});
  const auto m = ev.result();
  EXPECT_DOUBLE_EQ(m["map50"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["map50_95"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["recall"].get<double>(), 1.0);
  EXPECT_EQ(m["images"], 2);
}

TEST(DetectionMap, AHigherScoredFalsePositiveHalvesPrecision) {
  // One ground truth; an FP at 0.9, the TP at 0.5: precision at recall 1 is 1/2 -> AP 0.5.
  DetectionEvaluator ev(1);
  ev.add({{square(0, 0, 10), 0}}, {{square(40, 40, 10), 0, 0.9}, {square(0, 0, 10), 0, 0.5}});
  EXPECT_DOUBLE_EQ(ev.ap(0, 0), 0.5);
  const auto m = ev.result();
  EXPECT_DOUBLE_EQ(m["per_class"][0]["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["per_class"][0]["recall"].get<double>(), 1.0);
}

TEST(DetectionMap, InterpolationOver101RecallPoints) {
  // Two ground truths (two images); detections TP 0.9, FP 0.8, TP 0.7:
  // precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; envelope 1, 2/3, 2/3.
  // Recall points 0..0.50 (51 of them) read 1, points 0.51..1 (50) read 2/3.
  DetectionEvaluator ev(1);
  ev.add({{square(0, 0, 10), 0}}, {{square(0, 0, 10), 0, 0.9}, {square(60, 60, 10), 0, 0.8}});
  ev.add({{square(0, 0, 10), 0}}, {{square(0, 0, 10), 0, 0.7}});
  EXPECT_NEAR(ev.ap(0, 0), (51.0 + 50.0 * 2.0 / 3.0) / 101.0, 1e-12);
}

TEST(DetectionMap, Map50To95CountsTheThresholdsADetectionClears) {
  // gt [0,10]x[0,10], det [0,6]x[0,10]: IoU 60/100 = 0.6 -> a TP at 0.50, 0.55, 0.60 only,
  // so AP50-95 = 3/10.
  DetectionEvaluator ev(1);
  ev.add({{{0, 0, 10, 10}, 0}}, {{{0, 0, 6, 10}, 0, 0.9}});
  EXPECT_DOUBLE_EQ(ev.ap(0, 2), 1.0);  // 0.60: IoU >= t matches
  EXPECT_DOUBLE_EQ(ev.ap(0, 3), 0.0);  // 0.65
  EXPECT_NEAR(ev.result()["map50_95"].get<double>(), 0.3, 1e-12);
}

TEST(DetectionMap, MatchingIsGreedyByScoreAndOneToOne) {
  // Two detections on one ground truth: the higher-scored one takes it, the other is an FP; a
  // detection of the wrong class never matches.
  DetectionEvaluator ev(2);
  ev.add({{square(0, 0, 10), 0}},
         {{square(1, 0, 10), 0, 0.6}, {square(0, 0, 10), 0, 0.95}, {square(0, 0, 10), 1, 0.99}});
  const auto m = ev.result();
  EXPECT_DOUBLE_EQ(m["per_class"][0]["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(ev.ap(0, 0), 1.0);  // the TP comes first: precision 1 at recall 1
  // Class 1 has no ground truth: AP -1, left out of the means.
  EXPECT_DOUBLE_EQ(ev.ap(1, 0), -1.0);
  EXPECT_DOUBLE_EQ(m["map50"].get<double>(), 1.0);
}

TEST(DetectionMap, MissedGroundTruthAndMaxDetections) {
  DetectionEvaluator ev(1, /*max_detections=*/1);
  // Two objects, two correct detections, but only the best one per image and class counts.
  ev.add({{square(0, 0, 10), 0}, {square(30, 30, 10), 0}}, {{square(0, 0, 10), 0, 0.9}, {square(30, 30, 10), 0, 0.8}});
  // Recall reaches 1/2 with precision 1: points 0..0.50 read 1, the rest 0.
  EXPECT_NEAR(ev.ap(0, 0), 51.0 / 101.0, 1e-12);
  EXPECT_DOUBLE_EQ(ev.result()["per_class"][0]["recall"].get<double>(), 0.5);
}

}  // namespace
}  // namespace ptft
