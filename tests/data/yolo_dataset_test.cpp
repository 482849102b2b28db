// Tests for ptft/data/yolo_dataset.h on hand-made Ultralytics layouts: data.yaml forms (names as a
// list or a mapping, path relative to the file, splits as folders, lists and .txt files), the
// image -> label path rule, label parsing, and the errors that name file and line.
#include "ptft/data/yolo_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/fs.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

void put(const std::string& path, const std::string& text) {
  sfs::create_directories(sfs::path(path).parent_path());
  fs::write_file_atomic(path, text);
}

TEST(YoloDataset, ReadsDataYamlWithRelativePathAndSplits) {
  test::TempDir t("yolo");
  put(t.path + "/ds/images/train/b.png", "x");
  put(t.path + "/ds/images/train/a.jpg", "x");
  put(t.path + "/ds/images/train/sub/c.JPG", "x");
  put(t.path + "/ds/images/train/notes.md", "x");
  put(t.path + "/ds/images/val/v.bmp", "x");
  put(t.path + "/ds/extra.txt", "images/val/v.bmp\n\n");
  put(t.path + "/cfg/data.yaml", "path: ../ds\ntrain: images/train\nval: [images/val, extra.txt]\nnames: {0: plate, 1: car}\nnc: 2\n");
  const YoloDataYaml d = read_yolo_data_yaml(t.path + "/cfg/data.yaml");
  EXPECT_EQ(d.names, (std::vector<std::string>{"plate", "car"}));
  const auto train = yolo_split_images(d, "train");
  ASSERT_EQ(train.size(), 3u);
  EXPECT_EQ(sfs::path(train[0]).filename(), "a.jpg");
  EXPECT_EQ(sfs::path(train[2]).filename(), "c.JPG");
  EXPECT_EQ(yolo_split_images(d, "val").size(), 2u);
  EXPECT_NE(test::user_error([&] { yolo_split_images(d, "test"); }).find("no 'test' split"), std::string::npos);
}

TEST(YoloDataset, LabelPathFollowsUltralytics) {
  EXPECT_EQ(yolo_label_path("/d/images/train/a.jpg"), "/d/labels/train/a.txt");
  EXPECT_EQ(yolo_label_path("/images/x/images/train/a.b.png"), "/images/x/labels/train/a.b.txt");  // the last /images/
  EXPECT_EQ(yolo_label_path("/d/imgs/a.jpg"), "/d/imgs/a.txt");
}

TEST(YoloDataset, ParsesLabelsAndEmptyOrMissingFilesAreNegatives) {
  test::TempDir t("yolo-labels");
  put(t.path + "/a.txt", "0 0.5 0.5 0.2 0.4\n\n1 0.1 0.9 0.2 0.2\r\n");
  put(t.path + "/empty.txt", "");
  const auto b = read_yolo_labels(t.path + "/a.txt", 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].cls, 1);
  EXPECT_DOUBLE_EQ(b[0].h, 0.4);
  EXPECT_TRUE(read_yolo_labels(t.path + "/empty.txt", 2).empty());
  EXPECT_TRUE(read_yolo_labels(t.path + "/missing.txt", 2).empty());
  EXPECT_NE(test::user_error([&] { read_yolo_labels(t.path + "/missing.txt", 2, false); }).find("does not exist"),
            std::string::npos);
}

TEST(YoloDataset, BadLabelsNameFileAndLine) {
  test::TempDir t("yolo-bad");
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n", "bad.txt:2: class 2 is not a class id 0..1"},
      {"0 0.5 1.5 0.2 0.2\n", "bad.txt:1: 1.5 is outside [0, 1]"},
      {"0 0.95 0.5 0.2 0.2\n", "bad.txt:1: the box reaches outside the image"},
      {"0 0.5 0.5 0.2\n", "bad.txt:1: 4 values, expected 5"},
      {"0 0.1 0.1 0.2 0.1 0.3 0.3\n", "polygon (segment) labels are not supported"},
      {"0 0.5 abc 0.2 0.2\n", "bad.txt:1: 'abc' is not a number"},
      {"0.5 0.5 0.5 0.2 0.2\n", "class 0.5 is not a class id"},
      {"0 0.5 0.5 0 0.2\n", "zero width or height"},
  };
  for (const auto& c : cases) {
    put(t.path + "/bad.txt", c.text);
    const std::string err = test::user_error([&] { read_yolo_labels(t.path + "/bad.txt", 2); });
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << " -> " << err;
  }
  // Within the edge slack (rounding) is fine.
  put(t.path + "/edge.txt", "0 0.90005 0.5 0.2 0.2\n");
  EXPECT_EQ(read_yolo_labels(t.path + "/edge.txt", 2).size(), 1u);
}

TEST(YoloDataset, BadDataYamlIsAClearError) {
  test::TempDir t("yolo-yaml");
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"train: a\nval: b\nnmes: [x]\n", "unknown key 'nmes'"},
      {"train: a\n", "has no 'names'"},
      {"names: [x]\n", "has no 'train'"},
      {"train: a\nnames: {0: x, 2: y}\n", "names has no class 1"},
      {"train: a\nnames: [x, y]\nnc: 3\n", "nc is 3 but names has 2 classes"},
      {"train: [a: 1]\nnames: [x]\n", "'train' must list paths"},
      {"train: a\nnames: [x]\nnc: two\n", "a value has the wrong type"},
      {"train: a\nnames: [[x, y]]\n", "a value has the wrong type"},
  };
  for (const auto& c : cases) {
    put(t.path + "/data.yaml", c.text);
    const std::string err = test::user_error([&] { read_yolo_data_yaml(t.path + "/data.yaml"); });
    EXPECT_NE(err.find(c.says), std::string::npos) << c.text << " -> " << err;
  }
  put(t.path + "/data.yaml", "train: nowhere\nnames: [x]\n");
  const auto d = read_yolo_data_yaml(t.path + "/data.yaml");
  EXPECT_NE(test::user_error([&] { yolo_split_images(d, "train"); }).find("neither a folder nor a .txt list"), std::string::npos);
}

}  // namespace
}  // namespace ptft
