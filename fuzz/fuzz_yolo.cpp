// fuzz_yolo — libFuzzer target for Ultralytics detection data (downloaded, untrusted): the
// data.yaml (read_yolo_data_yaml) and a label file (read_yolo_labels), plus yolo_label_path.
//
// Input layout: data.yaml, NUL, a label file, NUL, an image path (fuzz_input.h). Both readers
// must give a result or a ptft::UserError; every other exception, every sanitizer report, a hang
// (-timeout) and runaway memory (-rss_limit_mb) are crashes. A data.yaml that reads has class
// names and a train split; every box has a class id among them (or among 3 when the data.yaml
// was refused) and coordinates in [0, 1]. yolo_split_images is not called: it walks the folders
// the file names, and a fuzzed `path: /` would walk the whole disk.
//
//   build-fuzz/fuzz_yolo -max_total_time=600 /tmp/yolo-corpus tests/data/fuzz_corpus_yolo
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ptft/core/error.h"
#include "ptft/data/yolo_dataset.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_yolo: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The number of classes of data.yaml, or 3 when it is refused.
int64_t read_classes(const std::string& path) {
  try {
    const ptft::YoloDataYaml d = ptft::read_yolo_data_yaml(path);
    if (d.names.empty() || d.train.empty()) fail("a data.yaml without names or train", d.file);
    return static_cast<int64_t>(d.names.size());
  } catch (const ptft::UserError&) {
    return 3;
  }
}

void check_labels(const std::string& path, int64_t classes) {
  std::vector<ptft::YoloBox> boxes;
  try {
    boxes = ptft::read_yolo_labels(path, classes);
  } catch (const ptft::UserError&) {
    return;
  }
  for (const auto& b : boxes)
    if (b.cls < 0 || b.cls >= classes || !(b.cx >= 0 && b.cx <= 1 && b.cy >= 0 && b.cy <= 1 && b.w > 0 &&
                                           b.w <= 1 && b.h > 0 && b.h <= 1))
      fail("a box outside the checks", std::to_string(b.cls) + " " + std::to_string(b.cx) + " " + std::to_string(b.w));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = fuzz_input::split(data, size, 3);
  const std::string& dir = fuzz_input::scratch_dir();
  fuzz_input::write(dir, "data.yaml", parts[0]);
  fuzz_input::write(dir, "labels.txt", parts[1]);
  try {
    check_labels(dir + "/labels.txt", read_classes(dir + "/data.yaml"));
    const std::string label = ptft::yolo_label_path(parts[2]);
    if (label.size() < 4 || label.compare(label.size() - 4, 4, ".txt") != 0) fail("label path", label);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
