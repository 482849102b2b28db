#include "ptft/models/resnet.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "ptft/core/error.h"
#include "ptft/models/class_names.h"
#include "ptft/models/family_section.h"
#include "ptft/nn/channels_last.h"
#include "family_formats.h"

namespace ptft {
namespace {

// A bias-free k x k convolution with "same" padding for odd k, torchvision's init.
torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  torch::nn::Conv2d c(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
  torch::NoGradGuard ng;
  torch::nn::init::kaiming_normal_(c->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
  return c;
}

// Output side of a k x k window with padding k/2 and `stride` over `side` pixels.
int64_t out_side(int64_t side, int64_t k, int64_t stride) { return (side + 2 * (k / 2) - k) / stride + 1; }

// Forward FLOPs (2 per multiply-add) of a bias-free convolution producing (cout, side, side).
double conv_flops(int64_t cin, int64_t cout, int64_t k, int64_t side) {
  return 2.0 * static_cast<double>(k * k * cin) * static_cast<double>(cout) * static_cast<double>(side * side);
}

}  // namespace

void ResNetConfig::validate() const {
  if (block != "basic" && block != "bottleneck")
    throw UserError("model.block must be basic or bottleneck, got '" + block + "'");
  if (stem != "imagenet" && stem != "small")
    throw UserError("model.stem must be imagenet or small, got '" + stem + "'");
  if (layers.size() != 4)
    throw UserError("model.layers must list the blocks of 4 stages, got " + std::to_string(layers.size()) + " stages",
                    "e.g. [2, 2, 2, 2] (ResNet-18) or [3, 4, 6, 3] (ResNet-34/50)");
  for (auto n : layers)
    if (n <= 0) throw UserError("model.layers: every stage needs at least 1 block, got " + std::to_string(n));
  if (width <= 0) throw UserError("model.width must be > 0, got " + std::to_string(width));
  if (in_channels <= 0) throw UserError("model.in_channels must be > 0, got " + std::to_string(in_channels));
  if (num_classes < 2) throw UserError("model.num_classes must be >= 2, got " + std::to_string(num_classes));
  if (dropout < 0 || dropout >= 1) throw UserError("model.dropout must be in [0, 1), got " + std::to_string(dropout));
  if (image_size < 0) throw UserError("model.image_size must be >= 0 (0 = the stem's default), got " + std::to_string(image_size));
}

ResNetBlockImpl::ResNetBlockImpl(bool bottleneck_, int64_t in_, int64_t planes_, int64_t stride_)
    : bottleneck(bottleneck_), in(in_), planes(planes_), stride(stride_) {
  reset();
}

void ResNetBlockImpl::reset() {
  const int64_t out = planes * (bottleneck ? 4 : 1);
  if (bottleneck) {
    conv1 = register_module("conv1", conv(in, planes, 1, 1));
    bn1 = register_module("bn1", nn::BatchNorm2d(nn::BatchNorm2dOptions(planes)));
    conv2 = register_module("conv2", conv(planes, planes, 3, stride));  // v1.5: stride on the 3x3
    bn2 = register_module("bn2", nn::BatchNorm2d(nn::BatchNorm2dOptions(planes)));
    conv3 = register_module("conv3", conv(planes, out, 1, 1));
    bn3 = register_module("bn3", nn::BatchNorm2d(nn::BatchNorm2dOptions(out)));
  } else {
    conv1 = register_module("conv1", conv(in, planes, 3, stride));
    bn1 = register_module("bn1", nn::BatchNorm2d(nn::BatchNorm2dOptions(planes)));
    conv2 = register_module("conv2", conv(planes, planes, 3, 1));
    bn2 = register_module("bn2", nn::BatchNorm2d(nn::BatchNorm2dOptions(planes)));
  }
  if (stride != 1 || in != out)
    downsample = register_module("downsample", torch::nn::Sequential(conv(in, out, 1, stride),
                                                                     nn::BatchNorm2d(nn::BatchNorm2dOptions(out))));
}

torch::Tensor ResNetBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor shortcut = downsample ? downsample->forward(x) : x;  // (B,out,H/stride,W/stride)
  torch::Tensor h = bn1->forward_relu(conv1->forward(x));  // (B,planes,H',W') (basic: H' = H/stride)
  if (!bottleneck) return bn2->forward_relu(conv2->forward(h), shortcut);  // relu(bn2(conv2 h) + shortcut)
  h = bn2->forward_relu(conv2->forward(h));                                 // (B,planes,H/stride,W/stride)
  return bn3->forward_relu(conv3->forward(h), shortcut);                    // (B,4*planes,H/stride,W/stride)
}

void ResNetTrunk::build(torch::nn::Module& owner, const ResNetConfig& cfg) {
  const bool small = cfg.stem == "small";
  conv1 = owner.register_module("conv1", conv(cfg.in_channels, cfg.width, small ? 3 : 7, small ? 1 : 2));
  bn1 = owner.register_module("bn1", nn::BatchNorm2d(nn::BatchNorm2dOptions(cfg.width)));
  int64_t in = cfg.width;
  stages.clear();
  for (size_t k = 0; k < cfg.layers.size(); ++k) {
    torch::nn::Sequential stage;
    for (int64_t i = 0; i < cfg.layers[k]; ++i) {
      const int64_t stride = (k > 0 && i == 0) ? 2 : 1;
      stage->push_back(ResNetBlock(cfg.bottleneck(), in, cfg.stage_width(k), stride));
      in = cfg.stage_out(k);
    }
    stages.push_back(owner.register_module("layer" + std::to_string(k + 1), stage));
  }
  nn::hold_channels_last(owner);  // the layout forward() gives the activations
}

std::vector<torch::Tensor> ResNetTrunk::forward(const torch::Tensor& x, const ResNetConfig& cfg) {
  // Channels-last from here on: oneDNN (and cuDNN) convolve NHWC without reordering every
  // activation, and nn::BatchNorm2d fuses its add and ReLU on that layout. (One input channel gets
  // channels-last strides explicitly, so that the stem's output is NHWC too.)
  constexpr auto nhwc = torch::MemoryFormat::ChannelsLast;
  const torch::Tensor stem = conv1->forward(nn::channels_last_strides(x)).contiguous(nhwc);  // (B,width,H/2,W/2) (small: H,W)
  torch::Tensor h = bn1->forward_relu(stem);
  if (cfg.stem == "imagenet") h = torch::max_pool2d(h, 3, 2, 1);  // (B,width,H/4,W/4)
  std::vector<torch::Tensor> outs;
  for (auto& stage : stages) {
    h = stage->forward(h);  // stage k: (B,stage_out(k),H/2^(k+2),W/2^(k+2)) (small: H/2^k)
    outs.push_back(h);
  }
  return outs;
}

double ResNetTrunk::flops(const ResNetConfig& cfg, int64_t input_side) {
  const bool small = cfg.stem == "small";
  int64_t side = out_side(input_side, small ? 3 : 7, small ? 1 : 2);
  double f = conv_flops(cfg.in_channels, cfg.width, small ? 3 : 7, side);
  if (!small) side = out_side(side, 3, 2);  // max-pool
  int64_t in = cfg.width;
  for (size_t k = 0; k < cfg.layers.size(); ++k) {
    const int64_t planes = cfg.stage_width(k), out = cfg.stage_out(k);
    for (int64_t i = 0; i < cfg.layers[k]; ++i) {
      const int64_t stride = (k > 0 && i == 0) ? 2 : 1;
      const int64_t s_out = out_side(side, 3, stride);
      if (cfg.bottleneck()) {
        f += conv_flops(in, planes, 1, side) + conv_flops(planes, planes, 3, s_out) + conv_flops(planes, out, 1, s_out);
      } else {
        f += conv_flops(in, planes, 3, s_out) + conv_flops(planes, planes, 3, s_out);
      }
      if (stride != 1 || in != out) f += conv_flops(in, out, 1, s_out);
      side = s_out;
      in = out;
    }
  }
  return f;
}

ResNetImpl::ResNetImpl(ResNetConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  trunk.build(*this, cfg_);
  fc = register_module("fc", torch::nn::Linear(cfg_.features(), cfg_.num_classes));  // torch.nn.Linear's init
  class_names_ = default_class_names(cfg_.num_classes);
}

TensorMap ResNetImpl::forward(const TensorMap& batch) {
  auto it = batch.find("x");
  PTFT_CHECK(it != batch.end(), "resnet expects batch field 'x'");
  const torch::Tensor& x = it->second;  // (B,C,H,W)
  if (x.dim() != 4 || x.size(1) != cfg_.in_channels)
    throw UserError("resnet expects images of shape (B, " + std::to_string(cfg_.in_channels) + ", H, W), got " +
                        c10::str(x.sizes()),
                    "the model's in_channels must match the images (1 for grayscale, 3 for RGB)");
  seen_side_ = std::llround(std::sqrt(static_cast<double>(x.size(2) * x.size(3))));
  torch::Tensor h = trunk.forward(x, cfg_).back();                 // (B,features,H/32,W/32) (small: H/8)
  h = torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);            // (B,features)
  if (cfg_.dropout > 0) h = torch::dropout(h, cfg_.dropout, is_training());
  return {{"logits", fc->forward(h)}};  // (B,num_classes)
}

ParamPlace ResNetImpl::param_place(const std::string& name) const {
  const int64_t k = block_index(name, "layer");
  if (k >= 1) return {ParamPlace::kBlock, k - 1};
  if (name.rfind("conv1.", 0) == 0 || name.rfind("bn1.", 0) == 0) return {ParamPlace::kEmbedding, -1};
  return {ParamPlace::kHead, -1};
}

double ResNetImpl::flops_per_unit() const {
  // Convolutions and fc at the input's size; BatchNorm, ReLU, pooling and additions (under 1% of
  // the total) are not counted.
  const int64_t side = seen_side_ > 0 ? seen_side_ : cfg_.input_size();
  return ResNetTrunk::flops(cfg_, side) + 2.0 * static_cast<double>(cfg_.features() * cfg_.num_classes);
}

void ResNetImpl::set_classes(const std::vector<std::string>& names, bool new_head) {
  check_class_names(names, "resnet classes");
  const auto k = static_cast<int64_t>(names.size());
  if (new_head || k != cfg_.num_classes) fc = replace_linear_head(*this, "fc", fc, k);
  cfg_.num_classes = k;
  class_names_ = names;
}

nlohmann::json resnet_config_json(const ResNetConfig& c, const std::vector<std::string>& class_names) {
  std::vector<int64_t> hidden_sizes;
  for (size_t k = 0; k < c.layers.size(); ++k) hidden_sizes.push_back(c.stage_out(k));
  nlohmann::json j = {{"model_type", "resnet"},
                      {"architectures", {"ResNetForImageClassification"}},
                      {"ptft", {{"family", "resnet"}}},
                      {"num_channels", c.in_channels},
                      {"embedding_size", c.width},
                      {"hidden_sizes", hidden_sizes},
                      {"depths", c.layers},
                      {"layer_type", c.block},
                      {"hidden_act", "relu"},
                      {"downsample_in_first_stage", false},
                      {"downsample_in_bottleneck", false},
                      {"stem", c.stem},
                      {"dropout", c.dropout},
                      {"image_size", c.image_size}};
  j.update(class_names_json(class_names));
  return j;
}

nlohmann::json ResNetImpl::config_json() const { return resnet_config_json(cfg_, class_names_); }

ResNetConfig resnet_config_from_json(const nlohmann::json& j, const std::string& source) {
  auto refuse = [&](const std::string& what, const std::string& hint) {
    throw UserError("'" + source + "': " + what, hint);
  };
  if (j.value("hidden_act", std::string("relu")) != "relu")
    refuse("hidden_act " + j["hidden_act"].dump() + " is not supported", "ptft's ResNet uses relu");
  if (j.value("downsample_in_bottleneck", false))
    refuse("downsample_in_bottleneck = true (ResNet v1, stride on the 1x1) is not supported",
           "ptft implements torchvision's ResNet v1.5 (stride on the 3x3)");
  if (j.value("downsample_in_first_stage", false))
    refuse("downsample_in_first_stage = true is not supported", "torchvision's ResNet keeps the first stage's resolution");
  ResNetConfig c;
  c.block = j.value("layer_type", c.block);
  c.layers = j.at("depths").get<std::vector<int64_t>>();
  c.width = j.value("embedding_size", c.width);
  c.in_channels = j.value("num_channels", c.in_channels);
  c.stem = j.value("stem", c.stem);
  c.dropout = j.value("dropout", c.dropout);
  c.image_size = j.value("image_size", c.image_size);
  c.num_classes = static_cast<int64_t>(class_names_from_json(j, -1, source).size());
  try {
    c.validate();
  } catch (const UserError& e) {
    throw e.with_context(source);
  }
  if (j.contains("hidden_sizes")) {
    const auto hs = j["hidden_sizes"].get<std::vector<int64_t>>();
    for (size_t k = 0; k < hs.size() || k < c.layers.size(); ++k)
      if (k >= hs.size() || k >= c.layers.size() || hs[k] != c.stage_out(k))
        refuse("hidden_sizes " + j["hidden_sizes"].dump() + " do not follow embedding_size " + std::to_string(c.width) +
                   " (stage k: embedding_size * 2^k" + (c.bottleneck() ? " * 4" : "") + ")",
               "ptft's ResNet doubles the width at every stage, as torchvision's");
  }
  return c;
}

YAML::Node ResNetImpl::config_yaml() const { return family_section_yaml("resnet", cfg_); }

namespace {

// Random images and labels (the registry's model test suite).
TensorMap resnet_example_batch(const ModelImpl& model, int64_t n, uint64_t seed) {
  const ResNetConfig& c = dynamic_cast<const ResNetImpl&>(model).config();
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return {{"x", torch::rand({n, c.in_channels, 32, 32}, g)}, {"y", torch::randint(c.num_classes, {n}, g, torch::kLong)}};
}

}  // namespace

ModelFamily resnet_family() {
  ModelFamily f;
  f.name = "resnet";
  f.default_task = "classification";
  f.tiny_architecture = "{block: basic, layers: [1, 1, 1, 1], width: 8, in_channels: 3, num_classes: 3, stem: small}";
  f.example_batch = resnet_example_batch;
  f.from_run_config = [](const config::Document& doc, const std::string& prefix) -> ModelPtr {
    return std::make_shared<ResNetImpl>(bind_family_section<ResNetConfig>(doc, prefix));
  };
  f.from_config_json = [](const nlohmann::json& j, const std::string& source) -> ModelPtr {
    auto m = std::make_shared<ResNetImpl>(resnet_config_from_json(j, source));
    m->set_classes(class_names_from_json(j, m->config().num_classes, source), /*new_head=*/false);
    return m;
  };
  f.formats = {resnet_torchvision_format()};
  return f;
}

}  // namespace ptft
