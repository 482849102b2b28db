// ptft/models/resnet.h — ResNet image classifiers (He et al. 2015), exactly as torchvision builds
// them, with torchvision's parameter and buffer names:
//
//   conv1 (7x7/2, or 3x3/1 with stem small), bn1, relu, maxpool 3x3/2 (imagenet stem only)
//   layer1..layer4: blocks layerK.I.{conv1,bn1,conv2,bn2[,conv3,bn3]}; the first block of a stage
//                   that changes resolution or width has layerK.0.downsample.0 (1x1 conv, stride s)
//                   and layerK.0.downsample.1 (BatchNorm)
//   adaptive average pool to 1x1, dropout (ptft's, 0 by default), fc
//
// BasicBlock: 3x3 conv, BN, ReLU, 3x3 conv, BN, + shortcut, ReLU (expansion 1). Bottleneck (v1.5,
// torchvision's): 1x1 conv, BN, ReLU, 3x3 conv with the stage's stride, BN, ReLU, 1x1 conv to 4x
// the width, BN, + shortcut, ReLU. Stage k has width * 2^k channels (times 4 for bottleneck
// outputs); stages 2..4 halve the resolution. Convolutions have no bias. BatchNorm is
// nn::BatchNorm2d: frozen layers (weight and bias not requiring grad) use their running statistics
// even in training mode. Init as torchvision: kaiming-normal (fan_out, relu) convolutions, BN
// weight 1 and bias 0, fc as torch.nn.Linear.
//
//   model: {family: resnet, preset: resnet18, num_classes: 10}
//   out = resnet->forward({{"x", x}});   // x: (B, in_channels, H, W) float -> out["logits"]: (B, num_classes)
//   resnet->set_classes({"cat", "dog"}, /*new_head=*/true);   // a fresh fc with 2 outputs
#pragma once

#include "ptft/models/model.h"
#include "ptft/nn/batch_norm.h"

namespace ptft {

struct ResNetConfig {
  std::string block = "basic";              // basic (ResNet-18/34) | bottleneck (ResNet-50/101/152)
  std::vector<int64_t> layers = {2, 2, 2, 2};  // blocks per stage (4 stages)
  int64_t width = 64;                       // stem output and first-stage width; stage k: width * 2^k
  int64_t in_channels = 3;                  // image channels (1 for grayscale)
  int64_t num_classes = 1000;               // fc outputs
  std::string stem = "imagenet";            // imagenet: 7x7/2 conv + 3x3/2 max-pool; small: 3x3/1 conv (28-32 px)
  double dropout = 0.0;                     // dropout before fc
  int64_t image_size = 0;                   // input side for flops_per_unit until a forward; 0 = 224 (imagenet), 32 (small)
  template <class V> void visit(V& v) {
    v.choice("block", block, {"basic", "bottleneck"}, "residual block type");
    v("layers", layers, "blocks per stage (4 stages)");
    v("width", width, "stem and first-stage channels; stage k has width * 2^k");
    v("in_channels", in_channels, "image channels");
    v("num_classes", num_classes, "number of output classes");
    v.choice("stem", stem, {"imagenet", "small"}, "imagenet: 7x7/2 conv + max-pool; small: 3x3/1 conv");
    v("dropout", dropout, "dropout before the classifier");
    v("image_size", image_size, "input side in pixels for FLOPs until the first batch; 0 = 224 (imagenet stem) or 32 (small)");
  }
  void validate() const;
  bool bottleneck() const { return block == "bottleneck"; }
  int64_t expansion() const { return bottleneck() ? 4 : 1; }
  int64_t stage_width(int64_t k) const { return width << k; }        // planes of stage k (0-based)
  int64_t stage_out(int64_t k) const { return stage_width(k) * expansion(); }
  int64_t features() const { return stage_out(static_cast<int64_t>(layers.size()) - 1); }  // fc input
  int64_t input_size() const { return image_size > 0 ? image_size : (stem == "small" ? 32 : 224); }
};

// One residual block, Basic or Bottleneck (conv3/bn3 exist only for bottleneck), torchvision names.
class ResNetBlockImpl : public torch::nn::Cloneable<ResNetBlockImpl> {
 public:
  ResNetBlockImpl(bool bottleneck, int64_t in, int64_t planes, int64_t stride);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // (B,in,H,W) -> (B,planes*expansion,H/stride,W/stride)

  bool bottleneck;
  int64_t in, planes, stride;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // [Conv2d 1x1/stride, BatchNorm2d], or null
};
TORCH_MODULE(ResNetBlock);

// The convolutional trunk of a ResNet — stem (conv1, bn1[, max-pool]) and the 4 stages
// layer1..layer4 — registered into `owner` under torchvision's names. The classifier below and
// the detector's backbone (ptft/models/detector.h) are both built on it.
struct ResNetTrunk {
  torch::nn::Conv2d conv1{nullptr};       // (width, in_channels, 7|3, 7|3)
  nn::BatchNorm2d bn1{nullptr};           // (width)
  std::vector<torch::nn::Sequential> stages;  // layer1..layer4 of ResNetBlock
  void build(torch::nn::Module& owner, const ResNetConfig& cfg);
  // x (B, in_channels, H, W) -> the output of every stage: stage k (0-based) is
  // (B, stage_out(k), H / 2^(k+2), W / 2^(k+2)) with the imagenet stem (small stem: H / 2^k).
  std::vector<torch::Tensor> forward(const torch::Tensor& x, const ResNetConfig& cfg);
  // Forward FLOPs of the trunk at side x side input (convolutions only).
  static double flops(const ResNetConfig& cfg, int64_t side);
};

class ResNetImpl : public ModelImpl {
 public:
  explicit ResNetImpl(ResNetConfig cfg);
  std::string family() const override { return "resnet"; }
  nlohmann::json config_json() const override;  // HF ResNetConfig names + ptft's stem, dropout, ...
  YAML::Node config_yaml() const override;
  TensorMap forward(const TensorMap& batch) override;  // "x" (B,C,H,W) -> "logits" (B,num_classes)
  // Per image of the size the last forward saw (before any: image_size x image_size).
  double flops_per_unit() const override;
  bool convolutional() const override { return true; }
  int64_t num_blocks() const override { return static_cast<int64_t>(cfg_.layers.size()); }
  // conv1/bn1: embedding (the stem), layerK.*: block K-1, fc: head.
  ParamPlace param_place(const std::string& name) const override;
  std::vector<std::string> class_names() const override { return class_names_; }
  void set_classes(const std::vector<std::string>& names, bool new_head) override;  // replaces fc
  const ResNetConfig& config() const { return cfg_; }

  ResNetTrunk trunk;                      // conv1, bn1, layer1..layer4
  torch::nn::Linear fc{nullptr};          // (num_classes, features)

 private:
  ResNetConfig cfg_;
  std::vector<std::string> class_names_;  // num_classes names; "0".. by default
  int64_t seen_side_ = 0;  // side of a square with the last forward's pixels per image; 0 = none yet
};

// config.json <-> ResNetConfig and class names. The reader takes HF ResNetConfig keys (depths,
// layer_type, num_channels, embedding_size, id2label; hidden_sizes must agree) plus ptft's stem,
// dropout, image_size; it validates and names `source` in errors.
ResNetConfig resnet_config_from_json(const nlohmann::json& j, const std::string& source);
nlohmann::json resnet_config_json(const ResNetConfig& c, const std::vector<std::string>& class_names);

ModelFamily resnet_family();

}  // namespace ptft
