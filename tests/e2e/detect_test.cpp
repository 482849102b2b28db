// End-to-end: `ptft detect` on a tiny yolo checkpoint: the JSON and PNG per image, unique output
// names, --json on stdout, and the errors (exit 1, a message that names the problem); and the
// user's path: `ptft data synth-detection` -> `ptft pretrain` of a tiny detector -> `ptft detect`.
//
// DetectFixture's checkpoint is written here the way ptft writes one (config.json +
// model.safetensors) with fixed pseudo-random weights for the tiny architecture below, so the
// command's plumbing is tested without a training run; its class-prediction bias is set so that
// every point scores 0.5, which gives detections at --conf 0.25.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "run_ptft.h"

namespace e2e {
namespace {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  float fill;  // NaN: pseudo-random
};

// The parameters and buffers of a yolo detector with backbone {basic, layers [1,1,1,1], width 8,
// imagenet stem}, fpn_channels 16, head_convs 1, `classes` classes.
std::vector<TensorSpec> tiny_detector_tensors(int64_t classes) {
  const float r = std::nanf("");
  std::vector<TensorSpec> t;
  auto bn = [&](const std::string& p, int64_t c) {
    t.push_back({p + ".weight", {c}, 1});
    t.push_back({p + ".bias", {c}, 0});
    t.push_back({p + ".running_mean", {c}, 0});
    t.push_back({p + ".running_var", {c}, 1});
    t.push_back({p + ".num_batches_tracked", {}, 0});  // int64, written as such below
  };
  t.push_back({"backbone.conv1.weight", {8, 3, 7, 7}, r});
  bn("backbone.bn1", 8);
  int64_t in = 8;
  for (int k = 0; k < 4; ++k) {
    const int64_t out = int64_t{8} << k;
    const std::string p = "backbone.layer" + std::to_string(k + 1) + ".0";
    t.push_back({p + ".conv1.weight", {out, in, 3, 3}, r});
    bn(p + ".bn1", out);
    t.push_back({p + ".conv2.weight", {out, out, 3, 3}, r});
    bn(p + ".bn2", out);
    if (k > 0) {
      t.push_back({p + ".downsample.0.weight", {out, in, 1, 1}, r});
      bn(p + ".downsample.1", out);
    }
    in = out;
  }
  for (int l = 0; l < 3; ++l) {
    const std::string i = std::to_string(l);
    t.push_back({"neck.lateral." + i + ".weight", {16, int64_t{16} << l, 1, 1}, r});
    t.push_back({"neck.lateral." + i + ".bias", {16}, 0});
    t.push_back({"neck.output." + i + ".weight", {16, 16, 3, 3}, r});
    t.push_back({"neck.output." + i + ".bias", {16}, 0});
  }
  for (const char* tower : {"head.cls_tower", "head.box_tower"}) {
    t.push_back({std::string(tower) + ".0.weight", {16, 16, 3, 3}, r});
    t.push_back({std::string(tower) + ".0.bias", {16}, 0});
    t.push_back({std::string(tower) + ".1.weight", {16}, 1});  // GroupNorm
    t.push_back({std::string(tower) + ".1.bias", {16}, 0});
  }
  t.push_back({"head.cls_pred.weight", {classes, 16, 3, 3}, 0});
  t.push_back({"head.cls_pred.bias", {classes}, 0});  // sigmoid(0) = 0.5 everywhere
  t.push_back({"head.box_pred.weight", {4, 16, 3, 3}, r});
  t.push_back({"head.box_pred.bias", {4}, 0});
  t.push_back({"head.scales", {3}, 1});
  return t;
}

// A checkpoint directory `dir` of the tiny detector with classes `names`, input 64 px.
void write_tiny_detector(const std::string& dir, const std::vector<std::string>& names) {
  sfs::create_directories(dir);
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (size_t i = 0; i < names.size(); ++i) {
    id2label[std::to_string(i)] = names[i];
    label2id[names[i]] = static_cast<int64_t>(i);
  }
  const nlohmann::json cfg = {
      {"model_type", "ptft-yolo"},
      {"ptft", {{"family", "yolo"}}},
      {"detector",
       {{"backbone", {{"block", "basic"}, {"layers", {1, 1, 1, 1}}, {"width", 8}, {"stem", "imagenet"}}},
        {"fpn_channels", 16},
        {"head_convs", 1},
        {"image_size", 64}}},
      {"id2label", id2label},
      {"label2id", label2id}};
  write_text(dir + "/config.json", cfg.dump(2));
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::vector<std::vector<char>> bytes;
  std::vector<ptft::safetensors::TensorRef> refs;
  for (const TensorSpec& s : tiny_detector_tensors(static_cast<int64_t>(names.size()))) {
    int64_t n = 1;
    for (int64_t d : s.shape) n *= d;
    const bool counter = s.name.size() > 19 && s.name.compare(s.name.size() - 19, 19, "num_batches_tracked") == 0;
    std::vector<char> b(static_cast<size_t>(n) * (counter ? 8 : 4), 0);
    if (!counter)
      for (int64_t i = 0; i < n; ++i) {
        const float v = std::isnan(s.fill) ? normal(rng) : s.fill;
        std::memcpy(b.data() + i * 4, &v, 4);
      }
    bytes.push_back(std::move(b));
    refs.push_back({s.name, counter ? ptft::safetensors::DType::I64 : ptft::safetensors::DType::F32, s.shape,
                    bytes.back().data(), bytes.back().size()});
  }
  ptft::safetensors::write(dir + "/model.safetensors", refs);
}

// Scenes from `ptft data synth-detection` (real Fashion-MNIST items), or GTEST_SKIP without them.
struct DetectFixture : ::testing::Test {
  void SetUp() override {
    if (!sfs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
    ckpt = tmp.path("det");
    write_tiny_detector(ckpt, {"Bag", "Sneaker"});
    auto r = run_ptft({"data", "synth-detection", "--out", tmp.path("scenes"), "--classes", "Bag,Sneaker", "--train",
                       "1", "--val", "2", "--size", "96"});
    ASSERT_EQ(r.exit_code, 0) << r.text();
    img0 = tmp.path("scenes/images/val/000000.png");
    img1 = tmp.path("scenes/images/val/000001.png");
  }
  TempDir tmp;
  std::string ckpt, img0, img1;
};

TEST_F(DetectFixture, WritesJsonAndAnnotatedPngPerImage) {
  // The same stem twice (a copy in another directory) must not overwrite the first.
  sfs::create_directories(tmp.path("copy"));
  sfs::copy_file(img0, tmp.path("copy/000000.png"));
  auto r = run_ptft({"detect", "--model", ckpt, img0, img1, tmp.path("copy/000000.png"), "--out", tmp.path("out"),
                     "--max-det", "5", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  for (const char* stem : {"000000", "000001", "000000_2"}) {
    EXPECT_TRUE(sfs::exists(tmp.path(std::string("out/") + stem + ".png"))) << stem;
    const nlohmann::json j = read_json(tmp.path(std::string("out/") + stem + ".json"));
    EXPECT_EQ(j["width"], 96);
    EXPECT_EQ(j["height"], 96);
    ASSERT_TRUE(j["detections"].is_array());
    EXPECT_GE(j["detections"].size(), 1u) << j.dump();  // every point scores 0.5 > 0.25
    EXPECT_LE(j["detections"].size(), 5u) << j.dump();
    double last = 1;
    for (const auto& d : j["detections"]) {
      const std::string cls = d["class"];
      EXPECT_TRUE(cls == "Bag" || cls == "Sneaker") << d.dump();
      EXPECT_EQ(d["class_id"], cls == "Bag" ? 0 : 1);
      EXPECT_NEAR(d["score"].get<double>(), 0.5, 1e-4);
      EXPECT_LE(d["score"].get<double>(), last);
      last = d["score"];
      ASSERT_EQ(d["box"].size(), 4u);
      EXPECT_GE(d["box"][0].get<double>(), 0);
      EXPECT_LE(d["box"][0].get<double>(), d["box"][2].get<double>());
      EXPECT_LE(d["box"][3].get<double>(), 96);
    }
  }
  EXPECT_EQ(read_json(tmp.path("out/000000_2.json"))["image"], tmp.path("copy/000000.png"));
  EXPECT_EQ(read_json(tmp.path("out/000000.json"))["image"], img0);
  // The annotated image differs from the scene (boxes drawn), with the same size.
  EXPECT_NE(read_text(tmp.path("out/000000.png")), read_text(img0));
  // One human line per image on stdout, the timing on stderr.
  EXPECT_TRUE(contains(r.out, img1 + ": 96x96, ")) << r.out;
  EXPECT_TRUE(contains(r.out, "-> " + tmp.path("out/000000_2") + ".{json,png}")) << r.out;
  EXPECT_TRUE(contains(r.err, "3 image(s), per image:")) << r.err;
}

// A folder stands for its images; without --out, results go to runs/detect/predict, then
// predict2 (Ultralytics' habit), under the working directory.
TEST_F(DetectFixture, AFolderOfImagesAndTheDefaultOutputDirectory) {
  write_text(tmp.path("scenes/images/val/notes.txt"), "not an image");
  for (const char* out : {"predict", "predict2"}) {
    auto r = run_ptft({"detect", "--model", ckpt, tmp.path("scenes/images/val"), "--threads", "1"}, tmp.root());
    ASSERT_EQ(r.exit_code, 0) << r.text();
    const std::string dir = tmp.path(std::string("runs/detect/") + out);
    for (const char* stem : {"000000", "000001"}) {
      EXPECT_TRUE(sfs::exists(dir + "/" + stem + ".json")) << dir << " " << stem;
      EXPECT_TRUE(sfs::exists(dir + "/" + stem + ".png")) << dir << " " << stem;
    }
    EXPECT_FALSE(sfs::exists(dir + "/notes.json"));
    EXPECT_TRUE(contains(r.err, "2 image(s)")) << r.err;
    EXPECT_TRUE(contains(r.err, std::string("results in runs/detect/") + out)) << r.err;
  }
  sfs::create_directories(tmp.path("empty"));
  auto none = run_ptft({"detect", "--model", ckpt, tmp.path("empty")});
  EXPECT_EQ(none.exit_code, 1) << none.text();
  EXPECT_TRUE(contains(none.err, "holds no images")) << none.err;
}

TEST_F(DetectFixture, JsonOnStdoutAndConfidenceFilter) {
  auto r = run_ptft({"detect", "--model", ckpt, img0, img1, "--out", tmp.path("out"), "--json", "--conf", "0.6",
                     "--threads", "1", "--batch-size", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["images"].size(), 2u);
  EXPECT_EQ(j["images"][1]["image"], img1);
  EXPECT_EQ(j["images"][1]["json"], tmp.path("out/000001.json"));
  EXPECT_EQ(j["images"][1]["png"], tmp.path("out/000001.png"));
  EXPECT_TRUE(j["images"][0]["detections"].empty()) << "no score is above 0.6";
  EXPECT_GT(j["speed_ms"]["inference"].get<double>(), 0);
  EXPECT_EQ(read_json(tmp.path("out/000001.json"))["detections"].size(), 0u);
}

TEST_F(DetectFixture, ErrorsNameTheProblemAndExitOne) {
  auto missing = run_ptft({"detect", "--model", ckpt, img0, tmp.path("nope.png"), "--out", tmp.path("out")});
  EXPECT_EQ(missing.exit_code, 1) << missing.text();
  EXPECT_TRUE(contains(missing.err, "image '" + tmp.path("nope.png") + "' does not exist")) << missing.err;
  EXPECT_FALSE(sfs::exists(tmp.path("out"))) << "nothing is written when an input is missing";

  write_text(tmp.path("bad.png"), "not a png");
  auto bad = run_ptft({"detect", "--model", ckpt, tmp.path("bad.png"), "--out", tmp.path("out2")});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_TRUE(contains(bad.err, "bad.png")) << bad.err;

  auto conf = run_ptft({"detect", "--model", ckpt, img0, "--out", tmp.path("out"), "--conf", "1.5"});
  EXPECT_EQ(conf.exit_code, 1) << conf.text();
  EXPECT_TRUE(contains(conf.err, "--conf 1.5 is outside [0, 1]")) << conf.err;
  auto iou = run_ptft({"detect", "--model", ckpt, img0, "--out", tmp.path("out"), "--iou", "-0.5"});
  EXPECT_EQ(iou.exit_code, 1) << iou.text();
  EXPECT_TRUE(contains(iou.err, "--iou -0.5 is outside [0, 1]")) << iou.err;

  // A classifier checkpoint: the family is named and predict suggested.
  auto run = run_ptft({"pretrain", "--config", spirals_config(), "--out", tmp.path("clf"), "--threads", "1", "--quiet",
                       "--set", "train.steps=1", "--set", "train.save_every=1", "--set", "train.eval_every=0"});
  ASSERT_EQ(run.exit_code, 0) << run.text();
  auto clf = run_ptft({"detect", "--model", tmp.path("clf"), img0, "--out", tmp.path("out")});
  EXPECT_EQ(clf.exit_code, 1) << clf.text();
  EXPECT_TRUE(contains(clf.err, "holds a mlp model, not an object detector")) << clf.err;
  EXPECT_TRUE(contains(clf.err, "ptft predict")) << clf.err;

  // --out under a regular file cannot be created.
  write_text(tmp.path("file"), "x");
  auto out = run_ptft({"detect", "--model", ckpt, img0, "--out", tmp.path("file/sub")});
  EXPECT_EQ(out.exit_code, 1) << out.text();
  EXPECT_TRUE(contains(out.err, "cannot create the output directory '" + tmp.path("file/sub") + "'")) << out.err;
}

TEST(DetectE2E, TrainsATinyDetectorAndDetectsWithIt) {
  if (!sfs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  TempDir tmp;
  auto scenes = run_ptft({"data", "synth-detection", "--out", tmp.path("scenes"), "--classes", "Bag,Sneaker,Trouser",
                          "--train", "30", "--val", "4", "--size", "96"});
  ASSERT_EQ(scenes.exit_code, 0) << scenes.text();
  write_text(tmp.path("det.yaml"),
             "model: {family: yolo, backbone: {layers: [1, 1, 1, 1], width: 8}, fpn_channels: 16, image_size: 96}\n"
             "data: {train: " + tmp.path("scenes/data.yaml") + ", val: " + tmp.path("scenes/data.yaml") +
                 ", detection: {size: 96}}\n"
             "train: {steps: 12, batch_size: 8, lr: 2.0e-3, warmup: 2, eval_every: 12, save_every: 12}\n");
  auto run = run_ptft({"pretrain", "--config", tmp.path("det.yaml"), "--out", tmp.path("run"), "--threads", "1",
                       "--precision", "fp32", "--quiet"}, {}, std::chrono::seconds(300));
  ASSERT_EQ(run.exit_code, 0) << run.text();
  const std::string val0 = tmp.path("scenes/images/val/000000.png"), val1 = tmp.path("scenes/images/val/000001.png");
  // The run directory stands for its best checkpoint.
  auto r = run_ptft({"detect", "--model", tmp.path("run"), val0, val1, "--out", tmp.path("out"), "--conf", "0.001",
                     "--max-det", "50", "--json", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["images"].size(), 2u);
  for (const auto& img : j["images"]) {
    EXPECT_EQ(img["width"], 96);
    EXPECT_FALSE(img["detections"].empty()) << "nothing scores above 0.001 in " << img["image"];
    EXPECT_LE(img["detections"].size(), 50u);
    for (const auto& d : img["detections"]) {
      const std::string cls = d["class"];
      EXPECT_TRUE(cls == "Bag" || cls == "Sneaker" || cls == "Trouser") << d.dump();  // the data's names
      EXPECT_LE(d["box"][2].get<double>(), 96);
    }
    EXPECT_EQ(read_json(img["json"].get<std::string>())["detections"], img["detections"]);
    EXPECT_TRUE(sfs::exists(img["png"].get<std::string>()));
  }
  // The checkpoint is not a classifier: predict says to use detect.
  auto p = run_ptft({"predict", "--model", tmp.path("run"), val0});
  EXPECT_EQ(p.exit_code, 1) << p.text();
  EXPECT_TRUE(contains(p.err, "ptft detect")) << p.err;
}

}  // namespace
}  // namespace e2e
