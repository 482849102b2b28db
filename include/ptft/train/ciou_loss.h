// ptft/train/ciou_loss.h — the Complete-IoU box loss (Zheng et al., "Distance-IoU Loss", AAAI
// 2020), as YOLO detectors (Ultralytics' bbox_iou(CIoU=True)) train box regression with it:
//
//   CIoU = IoU - rho^2 / c^2 - alpha v,   loss = 1 - CIoU
//   rho: distance between the box centres; c: diagonal of the smallest box enclosing both;
//   v = 4/pi^2 (atan(w_gt / h_gt) - atan(w / h))^2,  alpha = v / (1 - IoU + v), treated as a
//   constant in the backward pass (computed without grad, as the paper and Ultralytics do).
// eps (1e-7) keeps empty boxes finite. Boxes are corners (x1, y1, x2, y2).
//
//   torch::Tensor l = ciou_loss(pred, target);   // (N,4), (N,4) -> (N): 0 for identical boxes, < 2
#pragma once

#include <torch/torch.h>

namespace ptft {

torch::Tensor ciou_loss(const torch::Tensor& pred, const torch::Tensor& target, double eps = 1e-7);

}  // namespace ptft
