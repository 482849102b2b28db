// Tests for ptft/data/synth_detection.h on the real Fashion-MNIST files (dataset-fashion-mnist):
// the Ultralytics layout it writes reads back through ptft/data/yolo_dataset.h, every label is a
// valid box of a chosen class that covers changed pixels, reruns are byte-identical, other seeds
// differ, negatives have empty label files, and bad options are UserErrors.
#include "ptft/data/synth_detection.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/fs.h"
#include "ptft/data/image_io.h"
#include "ptft/data/yolo_dataset.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

bool have_fmnist() { return sfs::exists(SynthDetectionOptions{}.source); }

SynthDetectionOptions small(const std::string& out) {
  SynthDetectionOptions o;
  o.out = out;
  o.classes = {"Bag", "Sneaker"};
  o.train = 6;
  o.val = 2;
  o.size = 96;
  o.max_objects = 3;
  return o;
}

TEST(SynthDetection, WritesTheUltralyticsLayoutThatReadsBack) {
  if (!have_fmnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  test::TempDir t("synth");
  const auto s = synth_detection(small(t.path + "/scenes"));
  EXPECT_EQ(s.scenes[0], 6);
  EXPECT_EQ(s.scenes[1], 2);
  EXPECT_GE(s.objects[0], 6);  // at least one item per scene
  const YoloDataYaml d = read_yolo_data_yaml(t.path + "/scenes/data.yaml");
  EXPECT_EQ(d.names, (std::vector<std::string>{"Bag", "Sneaker"}));
  const auto train = yolo_split_images(d, "train");
  ASSERT_EQ(train.size(), 6u);
  EXPECT_EQ(yolo_split_images(d, "val").size(), 2u);
  int64_t objects = 0;
  for (const auto& img : train) {
    const auto boxes = read_yolo_labels(yolo_label_path(img), 2, /*missing_ok=*/false);
    objects += static_cast<int64_t>(boxes.size());
    const auto pixels = decode_image(img);  // (96,96,3)
    ASSERT_EQ(pixels.sizes(), (std::vector<int64_t>{96, 96, 3}));
    for (const auto& b : boxes) {
      EXPECT_GE(b.w * 96, 4.0);
      // The box holds the item: its pixels vary more than a background patch could be flat.
      const auto x0 = static_cast<int64_t>((b.cx - b.w / 2) * 96), y0 = static_cast<int64_t>((b.cy - b.h / 2) * 96);
      const auto patch = pixels.slice(0, y0, y0 + static_cast<int64_t>(b.h * 96)).slice(1, x0, x0 + static_cast<int64_t>(b.w * 96));
      EXPECT_GT(patch.to(torch::kFloat).std().item<double>(), 10.0);
    }
  }
  EXPECT_EQ(objects, s.objects[0]);
}

TEST(SynthDetection, IsAPureFunctionOfTheSeed) {
  if (!have_fmnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  test::TempDir t("synth-seed");
  synth_detection(small(t.path + "/a"));
  synth_detection(small(t.path + "/b"));
  auto o = small(t.path + "/c");
  o.seed = 2;
  synth_detection(o);
  for (const char* f : {"images/train/000003.png", "labels/train/000003.txt", "labels/val/000001.txt", "data.yaml"}) {
    EXPECT_EQ(fs::read_file(t.path + "/a/" + f), fs::read_file(t.path + "/b/" + f)) << f;
  }
  EXPECT_NE(fs::read_file(t.path + "/a/images/train/000003.png"), fs::read_file(t.path + "/c/images/train/000003.png"));
}

TEST(SynthDetection, NegativesAndErrors) {
  if (!have_fmnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  test::TempDir t("synth-neg");
  auto o = small(t.path + "/n");
  o.negatives = 0.5;
  o.train = 40;
  synth_detection(o);
  int empty = 0;
  for (int k = 0; k < 40; ++k) {
    char name[64];
    std::snprintf(name, sizeof name, "/n/labels/train/%06d.txt", k);
    empty += fs::read_file(t.path + name).empty() ? 1 : 0;
  }
  EXPECT_GE(empty, 10);  // binomial(40, 0.5): 10..30 holds with probability > 0.999
  EXPECT_LE(empty, 30);
  o = small(t.path + "/noval");
  o.val = 0;
  synth_detection(o);
  const auto d = read_yolo_data_yaml(t.path + "/noval/data.yaml");
  EXPECT_TRUE(d.val.empty());
  EXPECT_FALSE(sfs::exists(t.path + "/noval/images/val"));
  o = small(t.path + "/e");
  o.classes = {"Bag", "Cat"};
  EXPECT_NE(test::user_error([&] { synth_detection(o); }).find("'Cat' is not a class of the source"), std::string::npos);
  EXPECT_FALSE(sfs::exists(t.path + "/e"));
  o = small(t.path + "/n");  // exists and is not empty
  EXPECT_NE(test::user_error([&] { synth_detection(o); }).find("exists and is not empty"), std::string::npos);
  o = small(t.path + "/x");
  o.max_objects = 0;
  EXPECT_NE(test::user_error([&] { synth_detection(o); }).find("--min-objects"), std::string::npos);
}

}  // namespace
}  // namespace ptft
