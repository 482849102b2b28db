// The yolo family: shapes and names, config.json round trip, backbone from a ResNet classifier,
// new class heads, decoding, and an overfit-one-batch check of model + detection task.
#include "ptft/models/detector.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ptft/core/compat.h"
#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/train/detection_map.h"
#include "ptft/train/detection_task.h"
#include "ptft/train/optimizer.h"
#include "../common/user_error.h"

namespace ptft {
namespace {

DetectorConfig tiny(int64_t classes = 2) {
  DetectorConfig c;
  c.backbone.layers = {1, 1, 1, 1};
  c.backbone.width = 8;
  c.num_classes = classes;
  c.fpn_channels = 16;
  c.head_convs = 1;
  c.image_size = 64;
  return c;
}

std::map<std::string, std::vector<int64_t>> shapes(torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> s;
  for (const auto& kv : m.named_parameters()) s[kv.key()] = kv.value().sizes().vec();
  for (const auto& kv : m.named_buffers()) s[kv.key()] = kv.value().sizes().vec();
  return s;
}

TEST(Detector, GridPointsAreCellCentresRowMajor) {
  auto p = grid_points(2, 3, 8);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{6, 2}));
  EXPECT_TRUE(torch::equal(p[0], torch::tensor({4.f, 4.f})));
  EXPECT_TRUE(torch::equal(p[2], torch::tensor({20.f, 4.f})));
  EXPECT_TRUE(torch::equal(p[3], torch::tensor({4.f, 12.f})));
}

TEST(Detector, OutputsOnePredictionPerPointOfEachLevel) {
  torch::manual_seed(0);
  DetectorImpl m(tiny(3));
  EXPECT_EQ(m.strides(), (std::vector<int64_t>{8, 16, 32}));
  auto out = m.forward({{"x", torch::rand({2, 3, 64, 96})}});
  const int64_t P = 8 * 12 + 4 * 6 + 2 * 3;  // (64/8)*(96/8) + ... level by level
  EXPECT_EQ(out["cls_logits"].sizes(), (std::vector<int64_t>{2, P, 3}));
  EXPECT_EQ(out["box_ltrb"].sizes(), (std::vector<int64_t>{2, P, 4}));
  EXPECT_TRUE(out["box_ltrb"].gt(0).all().item<bool>());  // softplus distances
  // Points: level 1 first, row-major, at pixel centres of its stride.
  EXPECT_TRUE(torch::equal(out["points"].narrow(0, 0, 96), grid_points(8, 12, 8)));
  EXPECT_TRUE(torch::equal(out["points"].narrow(0, 96, 24), grid_points(4, 6, 16)));
  EXPECT_FLOAT_EQ(out["strides"][P - 1].item<float>(), 32.0f);
  // Every class starts at the 0.01 prior.
  auto p = torch::sigmoid(m.named_parameters()["head.cls_pred.bias"]);
  EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 0.01), 1e-5, 1e-6));
}

TEST(Detector, RefusesImagesThatAreNotMultiplesOf32) {
  DetectorImpl m(tiny());
  try {
    m.forward({{"x", torch::rand({1, 3, 60, 64})}});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of 32"), std::string::npos) << e.what();
  }
}

TEST(Detector, ParameterNamesAndPlaces) {
  DetectorImpl m(tiny());
  auto s = shapes(m);
  for (const char* name : {"backbone.conv1.weight", "backbone.bn1.running_mean", "backbone.layer2.0.downsample.0.weight",
                           "neck.lateral.0.weight", "neck.output.2.bias", "head.cls_tower.0.weight",
                           "head.cls_tower.1.weight", "head.box_pred.weight", "head.scales"})
    EXPECT_TRUE(s.count(name)) << name;
  EXPECT_EQ(s["neck.lateral.0.weight"], (std::vector<int64_t>{16, 16, 1, 1}));  // stage 2 has 2 x width channels
  EXPECT_EQ(s["neck.lateral.2.weight"], (std::vector<int64_t>{16, 64, 1, 1}));
  EXPECT_EQ(m.param_place("backbone.conv1.weight").kind, ParamPlace::kEmbedding);
  EXPECT_EQ(m.param_place("backbone.layer3.0.conv1.weight").block, 2);
  EXPECT_EQ(m.param_place("neck.output.0.weight").kind, ParamPlace::kHead);
  EXPECT_EQ(m.param_place("head.cls_pred.weight").kind, ParamPlace::kHead);
}

TEST(Detector, ConfigJsonRoundTrips) {
  DetectorConfig c = tiny(2);
  c.pixel_mean = {0.2, 0.3, 0.4};
  c.box_weight = 1.5;
  auto m = std::make_shared<DetectorImpl>(c);
  m->set_classes({"plate", "car"}, false);
  const nlohmann::json j = m->config_json();
  EXPECT_EQ(j["model_type"], "ptft-yolo");
  ModelPtr back = model_from_config_json(j, "ckpt/config.json");
  auto* d = dynamic_cast<DetectorImpl*>(back.get());
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->class_names(), (std::vector<std::string>{"plate", "car"}));
  EXPECT_EQ(d->config().pixel_mean, c.pixel_mean);
  EXPECT_DOUBLE_EQ(d->config().box_weight, 1.5);
  EXPECT_EQ(shapes(*d), shapes(*m));
  EXPECT_EQ(config::emit(d->config_yaml()), config::emit(m->config_yaml()));
}

TEST(Detector, ConfigJsonWithAnUnknownKeyNamesTheFile) {
  DetectorImpl m(tiny());
  nlohmann::json j = m.config_json();
  j["detector"]["fpn_channel"] = 8;
  try {
    model_from_config_json(j, "ckpt/config.json");
    FAIL();
  } catch (const UserError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("ckpt/config.json"), std::string::npos) << w;
    EXPECT_NE(w.find("fpn_channel"), std::string::npos) << w;
  }
}

TEST(Detector, BackboneLoadsFromAResNetClassifier) {
  torch::manual_seed(1);
  ResNetConfig rc = tiny().resnet();
  rc.num_classes = 10;
  ResNetImpl resnet(rc);
  TensorMap state;
  for (const auto& kv : resnet.named_parameters()) state[kv.key()] = kv.value().detach().clone();
  for (const auto& kv : resnet.named_buffers()) state[kv.key()] = kv.value().clone() + 0.25;  // distinct stats
  DetectorImpl det(tiny());
  const int64_t n = det.load_backbone(state, "cls/model.safetensors");
  EXPECT_EQ(n, static_cast<int64_t>(state.size()) - 2);  // all but fc.weight, fc.bias
  auto p = det.named_parameters(), b = det.named_buffers();
  EXPECT_TRUE(torch::equal(p["backbone.layer4.0.conv2.weight"], state["layer4.0.conv2.weight"]));
  EXPECT_TRUE(torch::equal(b["backbone.bn1.running_var"], state["bn1.running_var"]));

  DetectorConfig wider = tiny();
  wider.backbone.width = 16;
  DetectorImpl other(wider);
  try {
    other.load_backbone(state, "cls/model.safetensors");
    FAIL();
  } catch (const UserError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("cls/model.safetensors"), std::string::npos) << w;
    EXPECT_NE(w.find("conv1.weight"), std::string::npos) << w;
  }
}

TEST(Detector, TheRegistrySaysWhichFamiliesSeedItsBackbone) {
  EXPECT_EQ(find_model_family("yolo", "test").backbone_from, (std::vector<std::string>{"resnet"}));
  EXPECT_TRUE(find_model_family("resnet", "test").backbone_from.empty());
  // A family without a backbone to seed refuses, naming itself and the donor's file.
  ResNetImpl resnet(tiny().resnet());
  const std::string err = test::user_error_of([&] { resnet.load_backbone({}, "donor/model.safetensors"); });
  EXPECT_NE(err.find("'resnet' model has no backbone"), std::string::npos) << err;
  EXPECT_NE(err.find("donor/model.safetensors"), std::string::npos) << err;
}

TEST(Detector, SetClassesGivesAFreshClassPredictor) {
  DetectorImpl m(tiny(5));
  auto before = m.named_parameters()["head.box_pred.weight"].clone();
  m.set_classes({"a", "b"}, /*new_head=*/true);
  EXPECT_EQ(m.named_parameters()["head.cls_pred.weight"].size(0), 2);
  EXPECT_TRUE(torch::equal(m.named_parameters()["head.box_pred.weight"], before));
  auto out = m.forward({{"x", torch::rand({1, 3, 64, 64})}});
  EXPECT_EQ(out["cls_logits"].size(2), 2);
}

TEST(DecodeDetections, BoxesFromPointsAndDistancesThenPerClassNms) {
  // Three points; class 0 fires at points 0 and 1 (overlapping boxes), class 1 at point 2.
  TensorMap out;
  out["points"] = torch::tensor({10.f, 10.f, 12.f, 10.f, 40.f, 40.f}).view({3, 2});
  out["box_ltrb"] = torch::tensor({5.f, 5.f, 5.f, 5.f, 6.f, 5.f, 4.f, 5.f, 2.f, 3.f, 4.f, 5.f}).view({1, 3, 4});
  auto logit = [](double p) { return static_cast<float>(std::log(p / (1 - p))); };
  out["cls_logits"] = torch::tensor({logit(0.9), logit(0.001), logit(0.8), logit(0.002), logit(0.01), logit(0.7)})
                          .view({1, 3, 2});
  auto dets = decode_detections(out, /*conf=*/0.05, /*iou=*/0.5, /*max_det=*/10);
  ASSERT_EQ(dets.size(), 1u);
  ASSERT_EQ(dets[0].size(), 2u);  // point 1's class-0 box overlaps point 0's by IoU 1
  EXPECT_EQ(dets[0][0].cls, 0);
  EXPECT_NEAR(dets[0][0].score, 0.9, 1e-6);
  EXPECT_DOUBLE_EQ(dets[0][0].box.x1, 5);
  EXPECT_DOUBLE_EQ(dets[0][0].box.y2, 15);
  EXPECT_EQ(dets[0][1].cls, 1);
  EXPECT_DOUBLE_EQ(dets[0][1].box.x1, 38);
  EXPECT_DOUBLE_EQ(dets[0][1].box.y1, 37);
  EXPECT_DOUBLE_EQ(dets[0][1].box.x2, 44);
  EXPECT_DOUBLE_EQ(dets[0][1].box.y2, 45);
}

// Two 64 px images, each with one bright square of its class: the detector learns to find them.
TEST(DetectionTask, OverfitsOneBatchAndFindsTheBoxes) {
  torch::manual_seed(3);
  DetectorImpl m(tiny(2));
  Batch b;
  torch::Tensor x = torch::zeros({2, 3, 64, 64});
  x[0].narrow(1, 8, 24).narrow(2, 10, 20).fill_(1.0);  // box (10, 8, 30, 32), class 0
  x[1].narrow(1, 30, 20).narrow(2, 28, 30).fill_(1.0); // box (28, 30, 58, 50), class 1
  x[1][0].fill_(0.3);                                   // image 1 tinted
  b.data["x"] = x;
  b.data["boxes"] = torch::tensor({10.f, 8.f, 30.f, 32.f, 28.f, 30.f, 58.f, 50.f}).view({2, 1, 4});
  b.data["labels"] = torch::tensor({0L, 1L}).view({2, 1});
  b.weight = 2;
  DetectionTask task;
  AdamW opt(default_param_groups(m, 0.0, [](const std::string&) { return 1.0; }), 0.9, 0.999, 1e-8);
  double first = 0, last = 0;
  for (int s = 0; s < 150; ++s) {
    auto l = task.loss_sum(m, b) / 2.0;
    last = l.item<double>();
    if (s == 0) first = last;
    l.backward();
    opt.step(3e-3);
    opt.zero_grad();
  }
  auto parts = task.take_loss_components();
  EXPECT_TRUE(parts.count("box_loss") && parts.count("cls_loss"));
  EXPECT_TRUE(task.take_loss_components().empty());  // taken
  EXPECT_LT(last, first / 4) << "first " << first << " last " << last;
  m.eval();
  auto ev = task.new_eval();
  ev->add(m, b);
  const nlohmann::json r = ev->result();
  EXPECT_GT(r["map50"].get<double>(), 0.99) << r.dump();
  EXPECT_GT(r["map50_95"].get<double>(), 0.5) << r.dump();
  EXPECT_EQ(r["images"], 2);
}

TEST(DetectionTask, AnImageWithoutBoxesOnlyTrainsBackground) {
  DetectorImpl m(tiny(2));
  Batch b;
  b.data["x"] = torch::rand({1, 3, 64, 64});
  b.data["boxes"] = torch::zeros({1, 1, 4});
  b.data["labels"] = torch::full({1, 1}, -1L);
  const TensorMap out = m.forward({{"x", b.data["x"]}});
  DetectionLoss l = detection_loss(m, out, b);
  EXPECT_EQ(l.positives, 0);
  EXPECT_DOUBLE_EQ(l.box_sum.item<double>(), 0.0);
  EXPECT_GT(l.cls_sum.item<double>(), 0.0);
}

TEST(DetectionTask, RefusesAModelThatIsNotADetector) {
  ResNetConfig rc;
  rc.layers = {1, 1, 1, 1};
  rc.width = 8;
  rc.num_classes = 2;
  ResNetImpl r(rc);
  Batch b;
  b.data["x"] = torch::rand({1, 3, 32, 32});
  b.data["boxes"] = torch::zeros({1, 1, 4});
  b.data["labels"] = torch::full({1, 1}, -1L);
  DetectionTask task;
  try {
    task.loss_sum(r, b);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("yolo"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ptft

namespace ptft {
namespace {

// bf16 autocast (ptft's default on CPUs with avx512_bf16): the towers' GroupNorm runs in fp32.
TEST(Detector, TrainsUnderBf16Autocast) {
  torch::manual_seed(0);
  DetectorImpl m(tiny(2));
  Batch b;
  b.data["x"] = torch::rand({2, 3, 64, 64});
  b.data["boxes"] = torch::tensor({10.f, 8.f, 30.f, 32.f, 0.f, 0.f, 0.f, 0.f}).view({2, 1, 4});
  b.data["labels"] = torch::tensor({0L, -1L}).view({2, 1});
  DetectionTask task;
  torch::Tensor l;
  {
    compat::AutocastGuard guard(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
    l = task.loss_sum(m, b);
  }
  l.backward();
  EXPECT_TRUE(std::isfinite(l.item<double>()));
  EXPECT_TRUE(m.named_parameters()["backbone.conv1.weight"].grad().defined());
}

}  // namespace
}  // namespace ptft
