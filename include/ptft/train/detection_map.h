// ptft/train/detection_map.h — object-detection metrics as COCO computes them (pycocotools'
// COCOeval, bbox): AP per class at IoU thresholds 0.50, 0.55, ..., 0.95 with 101-point
// interpolated precision, mAP50 and mAP50-95 as means over the classes that have ground truth.
//
// Per image and class, detections (the max_detections best of each image and class, as COCOeval's
// maxDets) are matched in
// descending score order to the not-yet-matched ground-truth box of highest IoU >= t; a matched
// detection is a true positive, any other a false positive. Per class, over all images, the
// detections sorted by score give cumulative precision and recall; precision is made
// monotone (each point the maximum of those to its right) and read at the 101 recall points
// np.linspace(0, 1, 101) (the first detection reaching that recall; 0 where none does); AP is
// their mean.
// No crowd regions or area ranges.
//
// Also reported per class, at IoU 0.5 over every detection given: precision and recall
// (Ultralytics reports them at its confidence threshold: pass the detections above it).
//
//   DetectionEvaluator ev(/*num_classes=*/2);
//   ev.add(ground_truth, detections);            // one image: gt boxes with classes, scored detections
//   nlohmann::json m = ev.result();              // {"map50", "map50_95", "precision", "recall", "per_class": [...]}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "ptft/core/boxes.h"

namespace ptft {

struct GroundTruth {
  Box box;
  int64_t cls = 0;
};

class DetectionEvaluator {
 public:
  static constexpr int kThresholds = 10;  // IoU 0.50:0.05:0.95
  // InternalError for num_classes < 1.
  explicit DetectionEvaluator(int64_t num_classes, int64_t max_detections = 100);

  // One image. Class ids outside [0, num_classes) are InternalErrors (callers validate labels).
  void add(const std::vector<GroundTruth>& gt, std::vector<Detection> dets);

  // AP of class c at IoU threshold index k (0: 0.50 ... 9: 0.95); -1 when c has no ground truth.
  double ap(int64_t c, int k) const;
  // {"map50", "map50_95", "precision", "recall" (means over classes with ground truth),
  //  "images", "per_class": [{"class", "ground_truth", "detections", "ap50", "ap50_95",
  //  "precision", "recall"}]}. Classes without ground truth have ap -1 and are left out of the means.
  nlohmann::json result() const;

 private:
  struct Scored {
    double score;
    bool tp[kThresholds];
  };
  int64_t num_classes_, max_det_;
  int64_t images_ = 0;
  std::vector<int64_t> gt_count_;
  std::vector<std::vector<Scored>> scored_;  // per class
};

// A printable per-class table of result()["per_class"] (rows: class name, ground truth boxes,
// AP50, AP50-95, precision, recall; then "all" with the means of the classes with ground truth).
std::string detection_table(const nlohmann::json& per_class, const std::vector<std::string>& names);

}  // namespace ptft
