// ptft/train/detection_task.h — training and evaluating the anchor-free detector
// (ptft/models/detector.h) on detection batches (ptft/data/detection_source.h).
//
// Batch: x (B,3,S,S) in [0,1]; boxes (B,M,4) xyxy pixels of the input; labels (B,M) int64,
// -1 = padding. Per image, every feature-map point is assigned by FCOS center sampling
// (ptft/train/center_sampling.h, radius model.center_radius strides) to at most one box. Loss of a
// batch, normalised by its positives N (at least 1), as FCOS:
//   cls_loss = sum over all points and classes of the sigmoid focal loss (model.focal_alpha,
//              focal_gamma) against one-hot targets at the positives / N
//   box_loss = sum over positives of the CIoU loss (ptft/train/ciou_loss.h) / N
//   loss     = cls_loss + box_weight * box_loss       (per image of the batch; weight = B)
// Both parts are reported (take_loss_components: "box_loss", "cls_loss"; Ultralytics' names).
//
// Evaluation: the same losses, and the detections of decode_detections at confidence 0.001 (IoU
// 0.7, 300 per image, as Ultralytics' val) scored by DetectionEvaluator (ptft/train/detection_map.h):
// map50, map50_95, per-class AP; precision and recall at IoU 0.5 over the detections with
// score >= kReportConfidence (0.25, `ptft detect`'s default).
#pragma once

#include "ptft/train/task.h"

namespace ptft {

struct DetectionLoss {
  torch::Tensor cls_sum;  // scalar: focal loss summed over points and classes
  torch::Tensor box_sum;  // scalar: CIoU loss summed over positives
  int64_t positives = 0;
  // Normalised by max(1, positives) and summed over the batch's B images (the Task's loss_sum):
  torch::Tensor loss;     // scalar with grad: (cls_sum + box_weight * box_sum) / N * B
  double cls_loss = 0;    // cls_sum / N * B
  double box_loss = 0;    // box_sum / N * B
};

// The two loss sums of a forward's output (`out`, DetectorImpl::forward) against a batch's boxes
// and labels. UserError when the model is not a yolo detector.
DetectionLoss detection_loss(ModelImpl& model, const TensorMap& out, const Batch& batch);

class DetectionTask : public Task {
 public:
  static constexpr double kReportConfidence = 0.25;
  std::string name() const override { return "detection"; }
  torch::Tensor loss_sum(ModelImpl& model, const Batch& batch) override;
  std::unique_ptr<EvalAccumulator> new_eval() const override;
  std::string unit() const override { return "images"; }
  std::map<std::string, double> take_loss_components() override;

 private:
  double box_ = 0, cls_ = 0;
  int64_t images_ = 0;
};

}  // namespace ptft
