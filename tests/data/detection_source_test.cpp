// Tests for ptft/data/detection_source.h on synthetic scenes (ptft/data/synth_detection.h, real
// Fashion-MNIST items) and on small hand-made layouts: batch fields and shapes, determinism by
// address, evaluation covering the split once with the label boxes letterboxed, mosaic closing in
// the last epochs, per_split, the input size from the model, open_data_source dispatch, and the
// errors that name the label file (and line) or the config key.
#include "ptft/data/detection_source.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/fs.h"
#include "ptft/data/image_io.h"
#include "ptft/data/letterbox.h"
#include "ptft/data/synth_detection.h"
#include "ptft/data/yolo_dataset.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

bool have_fmnist() { return sfs::exists(SynthDetectionOptions{}.source); }

// 20 train and 8 val scenes of 96 px with 2 classes, written once for the suite.
class DetectionSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_fmnist()) return;
    dir_ = new test::TempDir("det-source");
    SynthDetectionOptions o;
    o.out = dir_->path + "/scenes";
    o.classes = {"Bag", "Sneaker"};
    o.train = 20;
    o.val = 8;
    o.size = 96;
    o.seed = 3;
    o.negatives = 0.1;
    synth_detection(o);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!have_fmnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  }
  static std::string yaml() { return dir_->path + "/scenes/data.yaml"; }
  static DataContext context(DetectionDataConfig cfg = {}) {
    if (cfg.size == 0) cfg.size = 64;
    DataContext ctx;
    ctx.detection = std::make_shared<DetectionDataConfig>(cfg);
    return ctx;
  }
  static test::TempDir* dir_;
};
test::TempDir* DetectionSourceTest::dir_ = nullptr;

TEST_F(DetectionSourceTest, TrainBatchesHaveTheDetectionFields) {
  DetectionSource src(yaml(), "train", context());
  EXPECT_EQ(src.size(), 20);
  EXPECT_EQ(src.class_names(), (std::vector<std::string>{"Bag", "Sneaker"}));
  EXPECT_TRUE(test::contains(src.describe(), "20 images")) << src.describe();
  EXPECT_TRUE(test::contains(src.describe(), "2 classes (Bag, Sneaker)")) << src.describe();
  EXPECT_TRUE(test::contains(src.describe(), "64 px")) << src.describe();
  const Batch b = src.train_batch({0, 0, 6, 1});
  EXPECT_EQ(b.weight, 6);
  const auto& x = b.data.at("x");
  const auto& boxes = b.data.at("boxes");
  const auto& labels = b.data.at("labels");
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{6, 3, 64, 64}));
  EXPECT_EQ(x.scalar_type(), torch::kFloat);
  EXPECT_GE(x.min().item<float>(), 0.0f);
  EXPECT_LE(x.max().item<float>(), 1.0f);
  const int64_t M = boxes.size(1);
  EXPECT_GE(M, 1);
  EXPECT_EQ(boxes.sizes(), (std::vector<int64_t>{6, M, 4}));
  EXPECT_EQ(labels.sizes(), (std::vector<int64_t>{6, M}));
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  const auto valid = labels.ge(0);
  EXPECT_TRUE(labels.masked_select(valid).lt(2).all().item<bool>());
  EXPECT_GT(valid.sum().item<int64_t>(), 0);
  // Real boxes lie in the input and have sides >= 2 px; padding rows are zeros.
  const auto real = boxes.index({valid});  // (K, 4)
  EXPECT_TRUE(real.ge(0).all().item<bool>() && real.le(64).all().item<bool>());
  EXPECT_TRUE((real.select(1, 2) - real.select(1, 0)).ge(2).all().item<bool>());
  EXPECT_TRUE((real.select(1, 3) - real.select(1, 1)).ge(2).all().item<bool>());
  EXPECT_TRUE(boxes.index({valid.logical_not()}).eq(0).all().item<bool>());
}

TEST_F(DetectionSourceTest, TrainBatchesArePureFunctionsOfTheAddress) {
  DetectionSource a(yaml(), "train", context()), b(yaml(), "train", context());
  const Batch x = a.train_batch({3, 1, 4, 2});
  const Batch y = b.train_batch({3, 1, 4, 2});
  for (const char* k : {"x", "boxes", "labels"}) EXPECT_TRUE(x.data.at(k).equal(y.data.at(k))) << k;
  const Batch z = a.train_batch({4, 1, 4, 2});
  EXPECT_FALSE(x.data.at("x").equal(z.data.at("x")));
  // Another seed, other batches.
  DataContext other = context();
  other.seed = 7;
  EXPECT_FALSE(DetectionSource(yaml(), "train", other).train_batch({3, 1, 4, 2}).data.at("x").equal(x.data.at("x")));
}

TEST_F(DetectionSourceTest, EvalBatchesAreTheLetterboxedSplitWithItsLabelBoxes) {
  DetectionSource src(yaml(), "val", context());
  ASSERT_EQ(src.size(), 8);
  ASSERT_EQ(src.eval_batches(3), 3);
  const YoloDataYaml d = read_yolo_data_yaml(yaml());
  const auto paths = yolo_split_images(d, "val");
  EXPECT_EQ(src.image_paths(), paths);
  int64_t seen = 0;
  for (int64_t bi = 0; bi < 3; ++bi) {
    const Batch b = src.eval_batch(bi, 3);
    const int64_t B = b.data.at("x").size(0);
    EXPECT_EQ(B, bi < 2 ? 3 : 2);
    EXPECT_EQ(b.weight, B);
    for (int64_t j = 0; j < B; ++j, ++seen) {
      const std::string& path = paths[static_cast<std::size_t>(seen)];
      const Letterbox lb = letterbox(decode_image(path), 64);
      EXPECT_TRUE(b.data.at("x")[j].equal(lb.image.to(torch::kFloat).div(255.0))) << path;
      const auto labels = read_yolo_labels(yolo_label_path(path), 2);
      const auto row_labels = b.data.at("labels")[j];
      ASSERT_EQ(row_labels.ge(0).sum().item<int64_t>(), static_cast<int64_t>(labels.size())) << path;
      for (std::size_t k = 0; k < labels.size(); ++k) {
        const YoloBox& y = labels[k];
        const double w = static_cast<double>(lb.orig_w) * lb.scale, h = static_cast<double>(lb.orig_h) * lb.scale;
        const std::vector<double> want = {(y.cx - y.w / 2) * w + lb.pad_x, (y.cy - y.h / 2) * h + lb.pad_y,
                                          (y.cx + y.w / 2) * w + lb.pad_x, (y.cy + y.h / 2) * h + lb.pad_y};
        const auto got = b.data.at("boxes")[j][static_cast<int64_t>(k)];
        for (int64_t c = 0; c < 4; ++c) EXPECT_NEAR(got[c].item<double>(), want[static_cast<std::size_t>(c)], 1e-3) << path;
        EXPECT_EQ(row_labels[static_cast<int64_t>(k)].item<int64_t>(), y.cls);
      }
      const Letterbox info = src.letterbox_info(seen);
      EXPECT_DOUBLE_EQ(info.scale, lb.scale);
      EXPECT_DOUBLE_EQ(info.pad_x, lb.pad_x);
      EXPECT_EQ(info.orig_w, lb.orig_w);
    }
  }
  EXPECT_EQ(seen, 8);
}

TEST_F(DetectionSourceTest, MosaicClosesInTheLastEpochs) {
  // 20 images, 10 steps of 8 examples: 4 epochs; close_mosaic 2 closes epochs 2 and 3.
  DetectionDataConfig on;
  on.mosaic = 1;
  on.close_mosaic = 2;
  DetectionDataConfig off = on;
  off.mosaic = 0;
  DataContext ctx_on = context(on), ctx_off = context(off);
  for (DataContext* c : {&ctx_on, &ctx_off}) c->total_steps = 10, c->examples_per_step = 8;
  DetectionSource a(yaml(), "train", ctx_on), b(yaml(), "train", ctx_off);
  EXPECT_EQ(a.total_epochs(), 4);
  EXPECT_TRUE(a.mosaic_open(39));
  EXPECT_FALSE(a.mosaic_open(40));
  const BatchAddress last{9, 0, 8, 1};  // positions 72..79: epoch 3
  const Batch x = a.train_batch(last), y = b.train_batch(last);
  for (const char* k : {"x", "boxes", "labels"}) EXPECT_TRUE(x.data.at(k).equal(y.data.at(k))) << k;
  const BatchAddress first{0, 0, 8, 1};  // epoch 0: mosaic on
  EXPECT_FALSE(a.train_batch(first).data.at("x").equal(b.train_batch(first).data.at("x")));
  // Unknown run length: mosaic stays open.
  EXPECT_TRUE(DetectionSource(yaml(), "train", context(on)).mosaic_open(1000000));
}

TEST_F(DetectionSourceTest, PerSplitKeepsTheFirstImagesAndSizeComesFromTheModel) {
  DetectionDataConfig cfg;
  cfg.per_split = 5;
  DataContext ctx;
  ctx.detection = std::make_shared<DetectionDataConfig>(cfg);
  ctx.image_size = 96;
  DetectionSource src(yaml(), "train", ctx);
  EXPECT_EQ(src.size(), 5);
  EXPECT_EQ(src.input_size(), 96);
  const auto all = yolo_split_images(read_yolo_data_yaml(yaml()), "train");
  EXPECT_EQ(src.image_paths(), std::vector<std::string>(all.begin(), all.begin() + 5));
  EXPECT_TRUE(test::contains(src.describe(), "the first of 20")) << src.describe();
  EXPECT_EQ(src.train_batch({0, 0, 2, 1}).data.at("x").size(3), 96);
  ctx.image_size = 0;
  const std::string err = test::user_error_of([&] { DetectionSource(yaml(), "train", ctx); });
  EXPECT_TRUE(test::contains(err, "data.detection.size")) << err;
}

TEST_F(DetectionSourceTest, OpenDataSourceRecognisesADataYaml) {
  const auto src = open_data_source(yaml(), "val", context(), "data.val");
  EXPECT_TRUE(test::contains(src->describe(), "data.yaml")) << src->describe();
  EXPECT_EQ(src->size(), 8);
  EXPECT_TRUE(is_detection_data_path(yaml()));
  EXPECT_FALSE(is_detection_data_path(dir_->path + "/scenes"));
  EXPECT_FALSE(is_detection_data_path(dir_->path + "/missing.yaml"));
  // No test split in this data.yaml: the error names it.
  const std::string err = test::user_error_of([&] { open_data_source(yaml(), "test", context(), "eval.data"); });
  EXPECT_TRUE(test::contains(err, "data.yaml")) << err;
  EXPECT_TRUE(test::contains(err, "test")) << err;
}

// A hand-made layout: two 40 x 20 images with the given label files.
std::string write_layout(const test::TempDir& t, const std::string& a_labels, const std::string& b_labels) {
  for (const char* sub : {"/images/train", "/labels/train"}) sfs::create_directories(t.path + sub);
  write_png(t.path + "/images/train/a.png", torch::full({20, 40, 3}, 90, torch::kUInt8));
  write_png(t.path + "/images/train/b.png", torch::full({20, 40, 3}, 150, torch::kUInt8));
  fs::write_file_atomic(t.path + "/labels/train/a.txt", a_labels);
  fs::write_file_atomic(t.path + "/labels/train/b.txt", b_labels);
  return t.write("data.yaml", "path: .\ntrain: images/train\nnames: [plate, car]\n");
}

TEST(DetectionSource, HandMadeLayoutLetterboxesNonSquareImages) {
  test::TempDir t("det-layout");
  const std::string yaml = write_layout(t, "0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.1 0.1\n", "");
  DataContext ctx;
  ctx.image_size = 32;
  DetectionSource src(yaml, "train", ctx);
  EXPECT_TRUE(test::contains(src.describe(), "2 images, 2 boxes")) << src.describe();
  EXPECT_TRUE(test::contains(src.describe(), "1 negatives")) << src.describe();
  EXPECT_EQ(src.image(0).image.sizes(), (std::vector<int64_t>{3, 16, 32}));
  const Batch b = src.eval_batch(0, 2);
  // 40 x 20 -> 32 x 16 at y offset 8: (0.25..0.75) x 32 = 8..24, (0.25..0.75) x 16 + 8 = 12..20.
  const auto boxes = b.data.at("boxes");
  EXPECT_EQ(boxes.sizes(), (std::vector<int64_t>{2, 2, 4}));
  EXPECT_TRUE(torch::allclose(boxes[0][0], torch::tensor({8.f, 12.f, 24.f, 20.f})));
  EXPECT_TRUE(torch::allclose(boxes[0][1], torch::tensor({6.4f, 11.2f, 9.6f, 12.8f})));
  EXPECT_TRUE(b.data.at("labels").equal(torch::tensor({0, 1, -1, -1}, torch::kLong).view({2, 2})));
  EXPECT_FLOAT_EQ(b.data.at("x")[1][0][0][0].item<float>(), 114.0f / 255);
  EXPECT_FLOAT_EQ(b.data.at("x")[1][0][10][0].item<float>(), 150.0f / 255);
}

TEST(DetectionSource, LabelErrorsNameTheFileAndLine) {
  test::TempDir t("det-errors");
  const std::string yaml = write_layout(t, "0 0.5 0.5 0.2 0.2\n", "1 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n");
  DataContext ctx;
  ctx.image_size = 32;
  std::string err = test::user_error_of([&] { DetectionSource(yaml, "train", ctx); });
  EXPECT_TRUE(test::contains(err, "labels/train/b.txt:2")) << err;
  EXPECT_TRUE(test::contains(err, "class 2")) << err;

  const std::string many = write_layout(t, "0 0.5 0.5 0.2 0.2\n0 0.2 0.2 0.1 0.1\n1 0.7 0.7 0.1 0.1\n", "");
  DetectionDataConfig cfg;
  cfg.max_objects = 2;
  ctx.detection = std::make_shared<DetectionDataConfig>(cfg);
  err = test::user_error_of([&] { DetectionSource(many, "train", ctx); });
  EXPECT_TRUE(test::contains(err, "labels/train/a.txt")) << err;
  EXPECT_TRUE(test::contains(err, "data.detection.max_objects = 2")) << err;
}

}  // namespace
}  // namespace ptft
