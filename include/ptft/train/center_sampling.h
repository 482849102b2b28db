// ptft/train/center_sampling.h — positive-sample assignment for an anchor-free detection head
// (FCOS, Tian et al. 2019, with its "center sampling"; YOLOX's center prior is the same region).
//
// Every feature-map point predicts class scores and its distances (l, t, r, b) to the four sides
// of a box. A point is a positive of ground-truth box g when it lies inside g and within
// radius x stride of g's centre (the region clipped to g); a point inside several such regions
// takes the box of smallest area. Every other point is background (class 0 targets for the
// class loss, no box loss).
//
//   auto pts = grid_points(16, 16, /*stride=*/8);   // (256, 2) pixel centres (models/detector.h)
//   auto a = center_sampling_assign(pts, torch::full({256}, 8.0), gt_xyxy, /*radius=*/2.5);
//   a.gt_index;   // (P) int64: index into gt, -1 = background
//   a.ltrb;       // (P, 4): distances from the point to its box's sides (0 for background)
#pragma once

#include <torch/torch.h>

namespace ptft {

struct PointAssignment {
  torch::Tensor gt_index;  // (P) int64, -1 = background
  torch::Tensor ltrb;      // (P, 4) float
};

// points (P,2) float32 on the CPU, strides (P) (the stride of each point's level), gt (G,4) corner
// boxes (G may be 0).
PointAssignment center_sampling_assign(const torch::Tensor& points, const torch::Tensor& strides,
                                       const torch::Tensor& gt, double radius = 2.5);

}  // namespace ptft
