// ptft/core/boxes.h — axis-aligned boxes, their overlap, and per-class non-maximum suppression:
// the detection post-processing that YOLO-style detectors share (issue 7). Torch-free and in
// core/ because every layer that handles boxes needs them: data (letterbox, synthetic scenes),
// models (the detector's decoding), train (mAP), infer (drawing, JSON records).
//
// Boxes are corner coordinates in pixels, (x1, y1) top-left and (x2, y2) bottom-right, x1 <= x2,
// y1 <= y2; a box of zero width or height has area 0 and overlaps nothing.
//
//   Box a{0, 0, 10, 10}, b{5, 0, 15, 10};
//   double o = iou(a, b);                                   // 50 / 150 = 1/3
//   std::vector<Detection> kept = nms_per_class(dets, /*iou_threshold=*/0.5, /*max_detections=*/300);
#pragma once

#include <cstdint>
#include <vector>

namespace ptft {

struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double width() const { return x2 > x1 ? x2 - x1 : 0.0; }
  double height() const { return y2 > y1 ? y2 - y1 : 0.0; }
  double area() const { return width() * height(); }
};

// Intersection over union; 0 when either box is empty.
double iou(const Box& a, const Box& b);

struct Detection {
  Box box;
  int64_t cls = 0;     // class id
  double score = 0;    // confidence in [0, 1]
};

// Greedy NMS within each class: detections by descending score (ties: input order), each kept
// unless it overlaps an already kept detection of its class by IoU > iou_threshold. Returns at
// most max_detections (<= 0: all) kept detections, by descending score.
std::vector<Detection> nms_per_class(std::vector<Detection> dets, double iou_threshold, int64_t max_detections);

}  // namespace ptft
