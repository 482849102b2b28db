#include "ptft/models/detector.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <numeric>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/models/class_names.h"
#include "ptft/models/family_section.h"
#include "ptft/nn/channels_last.h"
#include "ptft/nn/group_norm.h"

namespace ptft {
namespace {

constexpr int kLevels = 3;            // P3, P4, P5 from stages 2..4
constexpr double kClassPrior = 0.01;  // initial foreground probability of every class (RetinaNet)

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, double init_std) {
  torch::nn::Conv2d c(torch::nn::Conv2dOptions(in, out, 3).padding(1));
  if (init_std > 0) {
    torch::NoGradGuard ng;
    torch::nn::init::normal_(c->weight, 0.0, init_std);
    torch::nn::init::zeros_(c->bias);
  }
  return c;
}

// head_convs x [3x3 conv, GroupNorm, ReLU] (FCOS's towers; weights N(0, 0.01)).
torch::nn::Sequential tower(int64_t channels, int64_t depth) {
  torch::nn::Sequential t;
  const int64_t groups = std::gcd<int64_t>(channels, 16);
  for (int64_t i = 0; i < depth; ++i) {
    t->push_back(conv3x3(channels, channels, 0.01));
    t->push_back(torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels)));
    t->push_back(torch::nn::ReLU());
  }
  return t;
}

// Runs a tower: each GroupNorm fused with the ReLU after it (nn::group_norm_act: channels-last,
// the convolutions' dtype under autocast).
torch::Tensor run_tower(const torch::nn::Sequential& t, torch::Tensor x) {
  const auto children = t->children();
  for (size_t i = 0; i < children.size(); ++i) {
    if (auto gn = std::dynamic_pointer_cast<torch::nn::GroupNormImpl>(children[i])) {
      const bool relu = i + 1 < children.size() && std::dynamic_pointer_cast<torch::nn::ReLUImpl>(children[i + 1]);
      x = nn::group_norm_act(x, gn->options.num_groups(), gn->weight, gn->bias, gn->options.eps(), relu);
      i += relu ? 1 : 0;
    } else if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(children[i])) {
      x = c->forward(x);
    } else {
      x = torch::relu(x);
    }
  }
  return x;
}

torch::nn::Conv2d class_predictor(int64_t channels, int64_t classes) {
  torch::nn::Conv2d c = conv3x3(channels, classes, 0.01);
  torch::NoGradGuard ng;
  c->bias.fill_(-std::log((1.0 - kClassPrior) / kClassPrior));
  return c;
}

// Per-channel values of `v` (one value = every channel) as (1, C, 1, 1) on x's device.
torch::Tensor channel_tensor(const std::vector<double>& v, int64_t channels, const torch::Tensor& x) {
  std::vector<float> f(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) f[c] = static_cast<float>(v.size() == 1 ? v[0] : v[c]);
  return torch::tensor(f, torch::TensorOptions().device(x.device())).view({1, channels, 1, 1});
}

void check_channels(const std::vector<double>& v, int64_t channels, const std::string& key, bool positive) {
  if (v.size() != 1 && static_cast<int64_t>(v.size()) != channels)
    throw UserError("model." + key + " has " + std::to_string(v.size()) + " values for " + std::to_string(channels) +
                        " channels",
                    "give one value (every channel) or one per channel");
  for (double x : v)
    if (!std::isfinite(x) || (positive && x <= 0))
      throw UserError("model." + key + " must hold finite" + std::string(positive ? " positive" : "") + " values");
}

}  // namespace

void DetectorConfig::validate() const {
  resnet().validate();
  if (num_classes < 1) throw UserError("model.num_classes must be >= 1, got " + std::to_string(num_classes));
  if (fpn_channels < 4) throw UserError("model.fpn_channels must be >= 4, got " + std::to_string(fpn_channels));
  if (head_convs < 0) throw UserError("model.head_convs must be >= 0, got " + std::to_string(head_convs));
  if (image_size < 32 || image_size % 32 != 0)
    throw UserError("model.image_size must be a positive multiple of 32, got " + std::to_string(image_size),
                    "e.g. 128, 160, 320, 640 (the largest stride is 32)");
  check_channels(pixel_mean, in_channels, "pixel_mean", false);
  check_channels(pixel_std, in_channels, "pixel_std", true);
  if (!(center_radius > 0)) throw UserError("model.center_radius must be > 0 (strides), e.g. 2.5");
  if (!(focal_alpha < 1)) throw UserError("model.focal_alpha must be < 1 (negative = no class weighting)");
  if (!(focal_gamma >= 0)) throw UserError("model.focal_gamma must be >= 0");
  if (!(box_weight >= 0)) throw UserError("model.box_weight must be >= 0");
}

ResNetConfig DetectorConfig::resnet() const {
  ResNetConfig r;
  r.block = backbone.block;
  r.layers = backbone.layers;
  r.width = backbone.width;
  r.stem = backbone.stem;
  r.in_channels = in_channels;
  r.num_classes = 2;  // unused: the trunk has no classifier
  r.image_size = image_size;
  return r;
}

DetectorBackboneImpl::DetectorBackboneImpl(const ResNetConfig& c) : cfg(c) { trunk.build(*this, cfg); }

DetectorImpl::DetectorImpl(DetectorConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  const ResNetConfig r = cfg_.resnet();
  backbone = register_module("backbone", DetectorBackbone(r));
  auto neck = register_module("neck", std::make_shared<torch::nn::Module>());
  lateral = neck->register_module("lateral", torch::nn::ModuleList());
  output = neck->register_module("output", torch::nn::ModuleList());
  for (int l = 0; l < kLevels; ++l) {
    lateral->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(r.stage_out(l + 1), cfg_.fpn_channels, 1)));
    output->push_back(conv3x3(cfg_.fpn_channels, cfg_.fpn_channels, 0));
  }
  nn::hold_channels_last(*neck);  // its input, the trunk's stages, is channels-last
  auto head = register_module("head", std::make_shared<torch::nn::Module>());
  cls_tower = head->register_module("cls_tower", tower(cfg_.fpn_channels, cfg_.head_convs));
  box_tower = head->register_module("box_tower", tower(cfg_.fpn_channels, cfg_.head_convs));
  cls_pred = head->register_module("cls_pred", class_predictor(cfg_.fpn_channels, cfg_.num_classes));
  box_pred = head->register_module("box_pred", conv3x3(cfg_.fpn_channels, 4, 0.01));
  nn::hold_channels_last(*head);  // its input, the neck's output, is channels-last
  scales = head->register_parameter("scales", torch::ones({kLevels}));
  class_names_ = default_class_names(cfg_.num_classes);
}

std::vector<int64_t> DetectorImpl::strides() const {
  const int64_t base = cfg_.backbone.stem == "imagenet" ? 4 : 1;  // stride of stage 1
  return {base * 2, base * 4, base * 8};
}

TensorMap DetectorImpl::forward(const TensorMap& batch) {
  auto it = batch.find("x");
  PTFT_CHECK(it != batch.end(), "the yolo detector expects batch field 'x'");
  const torch::Tensor& x = it->second;  // (B,C,S,S) in [0,1]
  if (x.dim() != 4 || x.size(1) != cfg_.in_channels || x.size(2) % 32 != 0 || x.size(3) % 32 != 0)
    throw UserError("the yolo detector expects images of shape (B, " + std::to_string(cfg_.in_channels) +
                        ", H, W) with H and W multiples of 32, got " + c10::str(x.sizes()),
                    "letterbox the images to model.image_size (data.detection.size)");
  const torch::Tensor xn = (x - channel_tensor(cfg_.pixel_mean, cfg_.in_channels, x)) /
                           channel_tensor(cfg_.pixel_std, cfg_.in_channels, x);
  const std::vector<torch::Tensor> c = backbone->forward(xn);  // stage k: (B, stage_out(k), S/s_k, S/s_k)
  // Top-down FPN: P5 = out(lat(C5)), P4 = out(lat(C4) + up(lat(C5))), ...
  std::vector<torch::Tensor> lat(kLevels), p(kLevels);
  for (int l = kLevels - 1; l >= 0; --l) {
    lat[l] = lateral[l]->as<torch::nn::Conv2d>()->forward(c[l + 1]);  // (B,F,h_l,w_l)
    if (l + 1 < kLevels)
      lat[l] = lat[l] + torch::upsample_nearest2d(lat[l + 1], {lat[l].size(2), lat[l].size(3)});
  }
  for (int l = 0; l < kLevels; ++l) p[l] = output[l]->as<torch::nn::Conv2d>()->forward(lat[l]);
  const std::vector<int64_t> st = strides();
  std::vector<torch::Tensor> cls, box, pts, str;
  const int64_t b = x.size(0);
  for (int l = 0; l < kLevels; ++l) {
    const int64_t h = p[l].size(2), w = p[l].size(3);
    torch::Tensor cl = cls_pred->forward(run_tower(cls_tower, p[l]));              // (B,C,h,w)
    torch::Tensor bx = box_pred->forward(run_tower(box_tower, p[l])).to(torch::kFloat);  // (B,4,h,w)
    bx = torch::softplus(bx * scales[l]) * static_cast<double>(st[l]);          // l,t,r,b in pixels
    cls.push_back(cl.permute({0, 2, 3, 1}).reshape({b, h * w, cfg_.num_classes}));
    box.push_back(bx.permute({0, 2, 3, 1}).reshape({b, h * w, 4}));
    pts.push_back(grid_points(h, w, static_cast<double>(st[l])).to(x.device()));
    str.push_back(torch::full({h * w}, static_cast<float>(st[l]), torch::TensorOptions().device(x.device())));
  }
  return {{"cls_logits", torch::cat(cls, 1)},  // (B,P,C)
          {"box_ltrb", torch::cat(box, 1)},    // (B,P,4)
          {"points", torch::cat(pts, 0)},      // (P,2)
          {"strides", torch::cat(str, 0)}};    // (P)
}

void DetectorImpl::set_image_size(int64_t size) {
  DetectorConfig c = cfg_;
  c.image_size = size;
  c.validate();
  cfg_ = c;
}

double DetectorImpl::flops_per_unit() const {
  const ResNetConfig r = cfg_.resnet();
  double f = ResNetTrunk::flops(r, cfg_.image_size);
  const std::vector<int64_t> st = strides();
  const double F = static_cast<double>(cfg_.fpn_channels);
  for (int l = 0; l < kLevels; ++l) {
    const double s = static_cast<double>(cfg_.image_size / st[l]);
    const double hw = s * s;
    f += 2.0 * static_cast<double>(r.stage_out(l + 1)) * F * hw;  // lateral 1x1
    f += 2.0 * 9 * F * F * hw;                                    // output 3x3
    f += 2.0 * 2.0 * static_cast<double>(cfg_.head_convs) * 9 * F * F * hw;  // two towers
    f += 2.0 * 9 * F * static_cast<double>(cfg_.num_classes + 4) * hw;      // predictors
  }
  return f;
}

ParamPlace DetectorImpl::param_place(const std::string& name) const {
  const int64_t k = block_index(name, "backbone.layer");
  if (k >= 1) return {ParamPlace::kBlock, k - 1};
  if (name.rfind("backbone.", 0) == 0) return {ParamPlace::kEmbedding, -1};  // stem: conv1, bn1
  return {ParamPlace::kHead, -1};
}

void DetectorImpl::set_classes(const std::vector<std::string>& names, bool new_head) {
  check_class_names(names, "yolo classes");
  const auto k = static_cast<int64_t>(names.size());
  if (new_head || k != cfg_.num_classes) {
    torch::nn::Conv2d fresh = class_predictor(cfg_.fpn_channels, k);
    fresh->to(cls_pred->weight.device(), cls_pred->weight.scalar_type());
    cls_pred = named_children()["head"]->replace_module("cls_pred", fresh);
  }
  cfg_.num_classes = k;
  class_names_ = names;
}

int64_t DetectorImpl::load_backbone(const TensorMap& state, const std::string& source) {
  torch::NoGradGuard ng;
  int64_t copied = 0;
  auto copy = [&](const std::string& name, torch::Tensor& dst) {
    auto it = state.find(name);
    if (it == state.end())
      throw UserError("'" + source + "' has no tensor '" + name + "' for the detector's backbone." + name,
                      "initialise the backbone from a ptft resnet checkpoint (or an imported torchvision ResNet) "
                      "whose model.backbone keys (block, layers, width, stem) match");
    if (it->second.sizes() != dst.sizes())
      throw UserError("'" + source + "': tensor '" + name + "' is " + c10::str(it->second.sizes()) +
                          " but the detector's backbone." + name + " is " + c10::str(dst.sizes()),
                      "set model.backbone (block, layers, width, stem) and model.in_channels to the classifier's");
    dst.copy_(it->second);
    ++copied;
  };
  for (auto& kv : backbone->named_parameters()) copy(kv.key(), kv.value());
  for (auto& kv : backbone->named_buffers()) copy(kv.key(), kv.value());
  return copied;
}

nlohmann::json DetectorImpl::config_json() const {
  nlohmann::json arch = config::to_json(family_section_yaml("yolo", cfg_));
  arch.erase("family");
  arch.erase("preset");
  arch.erase("num_classes");
  nlohmann::json j = {{"model_type", "ptft-yolo"}, {"ptft", {{"family", "yolo"}}}, {"detector", arch}};
  j.update(class_names_json(class_names_));
  return j;
}

torch::Tensor grid_points(int64_t h, int64_t w, double stride) {
  auto ys = (torch::arange(h, torch::kFloat) + 0.5) * stride;  // (H)
  auto xs = (torch::arange(w, torch::kFloat) + 0.5) * stride;  // (W)
  auto yy = ys.view({h, 1}).expand({h, w}), xx = xs.view({1, w}).expand({h, w});
  return torch::stack({xx.reshape({-1}), yy.reshape({-1})}, 1);  // (H*W, 2): x, y
}

std::vector<std::vector<Detection>> decode_detections(const TensorMap& out, double conf, double iou, int64_t max_det) {
  constexpr int64_t kPreNms = 1000;
  torch::NoGradGuard ng;
  const torch::Tensor scores = torch::sigmoid(out.at("cls_logits").to(torch::kFloat)).cpu();  // (B,P,C)
  const torch::Tensor ltrb = out.at("box_ltrb").to(torch::kFloat).cpu();                      // (B,P,4)
  const torch::Tensor pts = out.at("points").to(torch::kFloat).cpu();                          // (P,2)
  const torch::Tensor xyxy = torch::cat({pts - ltrb.narrow(2, 0, 2), pts + ltrb.narrow(2, 2, 2)}, 2);  // (B,P,4)
  std::vector<std::vector<Detection>> result;
  for (int64_t b = 0; b < scores.size(0); ++b) {
    const torch::Tensor s = scores[b];                 // (P,C)
    const torch::Tensor idx = (s > conf).nonzero();    // (K,2): point, class
    torch::Tensor sc = s.index({idx.select(1, 0), idx.select(1, 1)});  // (K)
    torch::Tensor order = std::get<1>(sc.sort(/*dim=*/0, /*descending=*/true));
    if (order.size(0) > kPreNms) order = order.narrow(0, 0, kPreNms);
    const torch::Tensor keep = idx.index_select(0, order);  // (K',2)
    sc = sc.index_select(0, order);
    const torch::Tensor bx = xyxy[b].index_select(0, keep.select(1, 0));  // (K',4)
    const auto bxa = bx.accessor<float, 2>();
    const auto ka = keep.accessor<int64_t, 2>();
    const auto sa = sc.accessor<float, 1>();
    std::vector<Detection> dets;
    dets.reserve(static_cast<size_t>(keep.size(0)));
    for (int64_t i = 0; i < keep.size(0); ++i)
      dets.push_back({Box{bxa[i][0], bxa[i][1], bxa[i][2], bxa[i][3]}, ka[i][1], sa[i]});
    result.push_back(nms_per_class(std::move(dets), iou, max_det));
  }
  return result;
}

YAML::Node DetectorImpl::config_yaml() const { return family_section_yaml("yolo", cfg_); }

namespace {

// Images with one bright box each, of a random class, at a random place (the registry's model
// test suite).
TensorMap detector_example_batch(const ModelImpl& model, int64_t n, uint64_t seed) {
  const DetectorConfig& c = dynamic_cast<const DetectorImpl&>(model).config();
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t S = c.image_size;
  auto x = torch::zeros({n, c.in_channels, S, S});
  auto boxes = torch::zeros({n, 1, 4});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t w = S / 4 + torch::randint(S / 4, {1}, g).item<int64_t>();
    const int64_t x0 = torch::randint(S - w, {1}, g).item<int64_t>(), y0 = torch::randint(S - w, {1}, g).item<int64_t>();
    x[i].narrow(1, y0, w).narrow(2, x0, w).fill_(1.0);
    boxes[i][0] = torch::tensor({float(x0), float(y0), float(x0 + w), float(y0 + w)});
  }
  return {{"x", x}, {"boxes", boxes}, {"labels", torch::randint(c.num_classes, {n, 1}, g, torch::kLong)}};
}

}  // namespace

ModelFamily detector_family() {
  ModelFamily f;
  f.name = "yolo";
  f.default_task = "detection";
  f.tiny_architecture = "{backbone: {layers: [1, 1, 1, 1], width: 8}, num_classes: 2, fpn_channels: 16, head_convs: 1, "
                        "image_size: 64}";
  f.example_batch = detector_example_batch;
  f.backbone_from = {"resnet"};
  f.from_run_config = [](const config::Document& doc, const std::string& prefix) -> ModelPtr {
    return std::make_shared<DetectorImpl>(bind_family_section<DetectorConfig>(doc, prefix));
  };
  f.from_config_json = [](const nlohmann::json& j, const std::string& source) -> ModelPtr {
    if (!j.contains("detector") || !j["detector"].is_object())
      throw UserError("'" + source + "' has no \"detector\" object", "a ptft yolo checkpoint's config.json has one");
    const std::vector<std::string> names = class_names_from_json(j, -1, source);
    nlohmann::json arch = j["detector"];
    arch["num_classes"] = static_cast<int64_t>(names.size());
    // JSON is YAML: bind it like a run config section (unknown keys are errors naming the file).
    const config::Document doc = config::Document::from_string(arch.dump(), source);
    DetectorConfig c;
    try {
      config::bind(doc, c);
    } catch (const UserError& e) {
      throw e.with_context(source);
    }
    auto m = std::make_shared<DetectorImpl>(c);
    m->set_classes(names, /*new_head=*/false);
    return m;
  };
  return f;
}

}  // namespace ptft
