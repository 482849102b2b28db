// ptft/models/detector.h — the "yolo" family: a single-stage, anchor-free object detector (FCOS /
// YOLOX style) on a ResNet backbone, with a light FPN.
//
//   backbone.*   a ResNet trunk (ptft/models/resnet.h) with torchvision's names below "backbone."
//                (backbone.conv1, backbone.bn1, backbone.layer1..4): the weights of an image
//                classifier (`ptft pretrain` on images, or an imported torchvision ResNet)
//                initialise it — the seed's "pre-train on ImageNet, then adapt".
//   neck.*       FPN over the outputs of stages 2..4 (strides 8, 16, 32 with the imagenet stem):
//                neck.lateral.{0,1,2}: 1x1 conv to fpn_channels; top-down: nearest 2x upsample
//                and add; neck.output.{0,1,2}: 3x3 conv -> P3, P4, P5.
//   head.*       shared over the levels: head.cls_tower / head.box_tower (head_convs x [3x3 conv,
//                GroupNorm(16 or fewer groups), ReLU]), head.cls_pred (3x3 conv -> num_classes
//                logits, bias at the 0.01 prior), head.box_pred (3x3 conv -> 4), head.scales (one
//                learnable scalar per level). Box side distances l, t, r, b (pixels) =
//                softplus(scale_level * box_pred) * stride_level.
//
// Input: x (B, in_channels, S, S) float pixels in [0, 1] (letterboxed, ptft/data/letterbox.h),
// S a multiple of 32; the model normalises with pixel_mean / pixel_std itself (those of the
// classifier whose backbone it took), so data and `ptft detect` never need to know them.
//
//   model: {family: yolo, backbone: {block: basic, layers: [1, 1, 1, 1], width: 16}, fpn_channels: 64}
//   TensorMap out = det->forward({{"x", x}});
//   out["cls_logits"]  (B, P, num_classes)   P = sum over levels of (S/stride)^2, levels in order,
//   out["box_ltrb"]    (B, P, 4) float32      each level row-major (grid_points below)
//   out["points"]      (P, 2) pixel centres of the points;  out["strides"] (P) their level's stride
//   auto dets = decode_detections(out, /*conf=*/0.25, /*iou=*/0.7, /*max_det=*/300);  // per image, input pixels
#pragma once

#include "ptft/core/boxes.h"
#include "ptft/models/model.h"
#include "ptft/models/resnet.h"

namespace ptft {

// The backbone part of the `model:` section (a ResNet trunk; see ResNetConfig).
struct DetectorBackboneConfig {
  std::string block = "basic";
  std::vector<int64_t> layers = {2, 2, 2, 2};
  int64_t width = 64;
  std::string stem = "imagenet";
  template <class V> void visit(V& v) {
    v.choice("block", block, {"basic", "bottleneck"}, "residual block type");
    v("layers", layers, "blocks per stage (4 stages)");
    v("width", width, "stem and first-stage channels; stage k has width * 2^k");
    v.choice("stem", stem, {"imagenet", "small"}, "imagenet: 7x7/2 conv + max-pool (strides 8/16/32); small: 3x3/1 (2/4/8)");
  }
};

struct DetectorConfig {
  DetectorBackboneConfig backbone;
  int64_t in_channels = 3;
  int64_t num_classes = 80;
  int64_t fpn_channels = 64;
  int64_t head_convs = 2;
  int64_t image_size = 640;           // training/inference side (data.detection.size overrides for training)
  std::vector<double> pixel_mean = {0.5};   // per channel (one value = all) of [0, 1] pixels
  std::vector<double> pixel_std = {0.5};
  // Loss (ptft/train/detection_task.h): FCOS center sampling radius (in strides), focal loss
  // alpha/gamma, weight of the CIoU box loss.
  double center_radius = 2.5;
  double focal_alpha = 0.25;
  double focal_gamma = 2.0;
  double box_weight = 2.0;
  template <class V> void visit(V& v) {
    v("backbone", backbone, "ResNet trunk");
    v("in_channels", in_channels, "image channels");
    v("num_classes", num_classes, "object classes (the data's names set them)");
    v("fpn_channels", fpn_channels, "channels of the FPN levels and the head");
    v("head_convs", head_convs, "3x3 conv + GroupNorm + ReLU layers in each head tower");
    v("image_size", image_size, "input side in pixels (multiple of 32)");
    v("pixel_mean", pixel_mean, "normalisation mean of [0,1] pixels (one value = every channel)");
    v("pixel_std", pixel_std, "normalisation std (one value = every channel)");
    v("center_radius", center_radius, "positives: points within this many strides of a box centre (FCOS center sampling)");
    v("focal_alpha", focal_alpha, "focal loss alpha (negative = no class weighting)");
    v("focal_gamma", focal_gamma, "focal loss gamma (0 = BCE)");
    v("box_weight", box_weight, "weight of the CIoU box loss against the class loss");
  }
  void validate() const;  // UserError naming model.KEY
  ResNetConfig resnet() const;  // the backbone as a ResNetConfig (num_classes unused)
};

// The backbone module: a ResNet trunk registered under torchvision's names.
class DetectorBackboneImpl : public torch::nn::Module {
 public:
  explicit DetectorBackboneImpl(const ResNetConfig& cfg);
  std::vector<torch::Tensor> forward(const torch::Tensor& x) { return trunk.forward(x, cfg); }
  ResNetConfig cfg;
  ResNetTrunk trunk;
};
TORCH_MODULE(DetectorBackbone);

class DetectorImpl : public ModelImpl {
 public:
  explicit DetectorImpl(DetectorConfig cfg);
  std::string family() const override { return "yolo"; }
  nlohmann::json config_json() const override;
  YAML::Node config_yaml() const override;
  TensorMap forward(const TensorMap& batch) override;  // see the header comment
  double flops_per_unit() const override;              // per image of image_size^2
  bool convolutional() const override { return true; }
  // backbone.conv1/bn1: embedding; backbone.layerK: block K-1; neck and head: head.
  int64_t num_blocks() const override { return 4; }
  ParamPlace param_place(const std::string& name) const override;
  std::vector<std::string> class_names() const override { return class_names_; }
  void set_classes(const std::vector<std::string>& names, bool new_head) override;  // replaces head.cls_pred
  const DetectorConfig& config() const { return cfg_; }
  std::vector<int64_t> strides() const;  // of P3, P4, P5
  // The input side the model is trained and run at (data.detection.size of a run that sets one:
  // recorded in config.json, so `ptft detect` letterboxes as training did). A multiple of 32.
  void set_image_size(int64_t size);
  // Copies a ResNet classifier's trunk into the backbone (shapes must agree) and takes its input
  // normalisation; returns the number of tensors copied. UserError naming `source` on a mismatch.
  int64_t load_backbone(const TensorMap& resnet_state, const std::string& source) override;

 private:
  DetectorConfig cfg_;
  std::vector<std::string> class_names_;
  DetectorBackbone backbone{nullptr};
  torch::nn::ModuleList lateral{nullptr}, output{nullptr};
  torch::nn::Sequential cls_tower{nullptr}, box_tower{nullptr};
  torch::nn::Conv2d cls_pred{nullptr}, box_pred{nullptr};
  torch::Tensor scales;  // (3)
};

// Centres ((j + 0.5) s, (i + 0.5) s) of an H x W feature map of stride s, row-major: (H*W, 2)
// float: the points of one level (out["points"]).
torch::Tensor grid_points(int64_t h, int64_t w, double stride);

// Decodes a forward's output into detections per image, in input pixel coordinates: every
// (point, class) with sigmoid score > conf (multi-label, as Ultralytics), at most 1000 per
// image by score before NMS, per-class NMS at IoU > iou, at most max_det kept.
std::vector<std::vector<Detection>> decode_detections(const TensorMap& out, double conf, double iou, int64_t max_det);

ModelFamily detector_family();

}  // namespace ptft
