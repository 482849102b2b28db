// ObjectDetector (ptft/infer/object_detector.h): loading a yolo checkpoint, refusing other
// families, detect() = letterbox -> forward -> decode -> unletterbox, batches equal single images,
// option checks; and the detect command's outputs (ptft/infer/detection_output.h).
#include "ptft/infer/object_detector.h"

#include <gtest/gtest.h>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/data/letterbox.h"
#include "ptft/infer/detection_output.h"
#include "ptft/io/checkpoint.h"
#include "ptft/models/detector.h"
#include "ptft/models/resnet.h"

namespace ptft {
namespace {

DetectorConfig tiny_detector() {
  DetectorConfig c;
  c.backbone.layers = {1, 1, 1, 1};
  c.backbone.width = 8;
  c.num_classes = 2;
  c.fpn_channels = 16;
  c.head_convs = 1;
  c.image_size = 64;
  return c;
}

void save(const std::string& dir, ModelImpl& m) {
  Checkpoint c;
  c.config = m.config_json();
  c.model = state_dict(m);
  write_checkpoint(dir, c);
}

// A checkpoint of a freshly initialised detector of classes cat, dog.
std::string detector_checkpoint(const test::TempDir& tmp) {
  torch::manual_seed(3);
  DetectorImpl m(tiny_detector());
  m.set_classes({"cat", "dog"}, /*new_head=*/false);
  const std::string dir = tmp.path + "/det";
  save(dir, m);
  return dir;
}

torch::Tensor random_image(int64_t h, int64_t w, int64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, {h, w, 3}, torch::kUInt8);
}

TEST(ObjectDetector, LoadsAYoloCheckpoint) {
  test::TempDir tmp("objdet_load");
  const ObjectDetector det = load_object_detector(detector_checkpoint(tmp));
  EXPECT_EQ(det.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(det.image_size, 64);
  EXPECT_FALSE(det.model->is_training());
}

TEST(ObjectDetector, RefusesAClassifierAndPointsToPredict) {
  test::TempDir tmp("objdet_resnet");
  ResNetConfig rc;
  rc.layers = {1, 1, 1, 1};
  rc.width = 8;
  rc.num_classes = 3;
  rc.stem = "small";
  ResNetImpl r(rc);
  save(tmp.path + "/clf", r);
  const std::string err = test::user_error_of([&] { load_object_detector(tmp.path + "/clf"); });
  EXPECT_TRUE(test::contains(err, "holds a resnet model, not an object detector")) << err;
  EXPECT_TRUE(test::contains(err, "ptft predict")) << err;
}

TEST(ObjectDetector, DetectIsLetterboxForwardDecodeUnletterbox) {
  test::TempDir tmp("objdet_detect");
  const ObjectDetector det = load_object_detector(detector_checkpoint(tmp));
  const torch::Tensor img = random_image(40, 100, 1);  // wide: padded above and below
  const DetectOptions opt{/*conf=*/0.005, /*iou=*/0.5, /*max_det=*/20};
  const std::vector<Detection> got = detect(det, img, opt);
  ASSERT_FALSE(got.empty());  // every point starts near the 0.01 class prior, above conf
  EXPECT_LE(got.size(), 20u);
  // The reference: the same steps by hand.
  torch::NoGradGuard ng;
  const Letterbox lb = letterbox(img, 64);
  const auto out = det.model->forward({{"x", lb.image.unsqueeze(0).to(torch::kFloat) / 255.0}});
  const auto want = decode_detections(out, opt.conf, opt.iou, opt.max_det).at(0);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Box b = unletterbox_box(want[i].box, lb);
    EXPECT_EQ(got[i].cls, want[i].cls);
    EXPECT_NEAR(got[i].score, want[i].score, 1e-6);
    EXPECT_NEAR(got[i].box.x1, b.x1, 1e-4);
    EXPECT_NEAR(got[i].box.y2, b.y2, 1e-4);
    // In the original image's pixels.
    EXPECT_GE(got[i].box.x1, 0);
    EXPECT_LE(got[i].box.x2, 100);
    EXPECT_LE(got[i].box.y2, 40);
    if (i > 0) {
      EXPECT_GE(got[i - 1].score, got[i].score);
    }
  }
}

TEST(ObjectDetector, ABatchGivesWhatSingleImagesGive) {
  test::TempDir tmp("objdet_batch");
  const ObjectDetector det = load_object_detector(detector_checkpoint(tmp));
  const std::vector<torch::Tensor> imgs = {random_image(64, 64, 1), random_image(30, 50, 2),
                                           torch::full({50, 20, 1}, 200, torch::kUInt8)};
  const DetectOptions opt{0.005, 0.6, 10};
  DetectTiming timing;
  const auto batch = detect_batch(det, imgs, opt, &timing);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(timing.images, 3);
  EXPECT_GT(timing.inference_ms, 0);
  for (size_t i = 0; i < imgs.size(); ++i) {
    const auto one = detect(det, imgs[i], opt);
    ASSERT_EQ(one.size(), batch[i].size()) << "image " << i;
    for (size_t k = 0; k < one.size(); ++k) {
      EXPECT_EQ(one[k].cls, batch[i][k].cls);
      EXPECT_NEAR(one[k].score, batch[i][k].score, 1e-5);
      EXPECT_NEAR(one[k].box.x2, batch[i][k].box.x2, 1e-3);
    }
  }
}

TEST(ObjectDetector, OptionsOutsideTheirRangeAreUserErrors) {
  EXPECT_TRUE(test::contains(test::user_error_of([] { DetectOptions{1.5, 0.7, 300}.validate(); }), "--conf 1.5 is outside [0, 1]"));
  EXPECT_TRUE(test::contains(test::user_error_of([] { DetectOptions{0.25, -0.1, 300}.validate(); }), "--iou -0.1"));
  EXPECT_TRUE(test::contains(test::user_error_of([] { DetectOptions{0.25, 0.7, 0}.validate(); }), "--max-det 0"));
  EXPECT_NO_THROW((DetectOptions{0, 1, 1}.validate()));
}

TEST(DetectionOutput, StemsNeverRepeat) {
  EXPECT_EQ(unique_output_stems({"a/cat.jpg", "b/cat.png", "dog.png", "c/cat.bmp", "cat_2.png"}),
            (std::vector<std::string>{"cat", "cat_2", "dog", "cat_3", "cat_2_2"}));
}

TEST(DetectionOutput, JsonRecordAndSummary) {
  const std::vector<Detection> dets = {{{1.234, 2, 30.006, 40}, 1, 0.912345}, {{0, 0, 5, 5}, 0, 0.5}, {{0, 0, 5, 5}, 1, 0.4}};
  const nlohmann::ordered_json j = detections_json("x/a.png", 64, 48, dets, {"cat", "dog"});
  EXPECT_EQ(j["image"], "x/a.png");
  EXPECT_EQ(j["width"], 64);
  EXPECT_EQ(j["height"], 48);
  ASSERT_EQ(j["detections"].size(), 3u);
  const nlohmann::ordered_json& d = j["detections"][0];
  EXPECT_EQ(d["class"], "dog");
  EXPECT_EQ(d["class_id"], 1);
  EXPECT_NEAR(d["score"].get<double>(), 0.9123, 1e-9);
  EXPECT_NEAR(d["box"][0].get<double>(), 1.23, 1e-9);
  EXPECT_NEAR(d["box"][2].get<double>(), 30.01, 1e-9);
  EXPECT_EQ(j.dump().substr(0, 56), R"({"image":"x/a.png","width":64,"height":48,"detections":[)");
  EXPECT_EQ(d.dump(), R"({"class":"dog","class_id":1,"score":0.9123,"box":[1.23,2.0,30.01,40.0]})");
  EXPECT_EQ(count_by_class(dets, {"cat", "dog"}), "2 dog, 1 cat");
  EXPECT_EQ(count_by_class({}, {"cat"}), "no objects");
  EXPECT_EQ(detections_json("a", 1, 1, {{{0, 0, 1, 1}, 5, 0.3}}, {"cat"})["detections"][0]["class"], "5");
}

}  // namespace
}  // namespace ptft
