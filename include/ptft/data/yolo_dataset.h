// ptft/data/yolo_dataset.h — object-detection data in the Ultralytics (YOLO) layout: a data.yaml
// and one label file per image.
//
//   data.yaml:  path: datasets/plates        # dataset root; relative = relative to data.yaml's folder
//               train: images/train          # a folder of images, a .txt list of images, or a list of either
//               val: images/val              # (relative to `path`)
//               names: {0: plate, 1: car}    # or a list [plate, car]; `nc`, when given, must agree
//   labels:     images/train/a.jpg -> labels/train/a.txt (the last "/images/" becomes "/labels/"),
//               one object per line: "class cx cy w h", normalised to the image (0..1). An empty
//               label file is an image without objects (a negative); a missing one too (counted).
//
// Errors name the file (and line) and the fix: a class id outside names, a value outside [0, 1],
// a box reaching outside the image, a line without 5 numbers (polygon labels are refused), an
// unknown data.yaml key, a split that names nothing.
//
//   YoloDataYaml d = read_yolo_data_yaml("datasets/plates/data.yaml");
//   std::vector<std::string> images = yolo_split_images(d, "train");
//   std::vector<YoloBox> boxes = read_yolo_labels(yolo_label_path(images[0]), d.names.size());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptft {

struct YoloDataYaml {
  std::string file;                        // the data.yaml read
  std::string root;                        // `path`, resolved
  std::vector<std::string> train, val, test;  // entries of each split, resolved against root
  std::vector<std::string> names;          // class names by id
};

struct YoloBox {
  int64_t cls = 0;
  double cx = 0, cy = 0, w = 0, h = 0;  // normalised centre and size
};

// Tolerance for boxes that reach past the image border by rounding (normalised units).
constexpr double kYoloEdgeSlack = 1e-4;

YoloDataYaml read_yolo_data_yaml(const std::string& path);

// The image files of a split ("train", "val", "test"), sorted within each entry: folders are
// searched recursively for image files (is_image_file, ptft/data/image_decode.h); .txt entries
// list one image per line (relative to the list's folder). UserError for an empty or missing split.
std::vector<std::string> yolo_split_images(const YoloDataYaml& d, const std::string& split);

// Ultralytics' img2label_paths: the last "/images/" -> "/labels/", the extension -> ".txt".
std::string yolo_label_path(const std::string& image_path);

// The boxes of a label file; empty for an empty (or, with missing_ok, a missing) file.
std::vector<YoloBox> read_yolo_labels(const std::string& path, int64_t num_classes, bool missing_ok = true);

}  // namespace ptft
