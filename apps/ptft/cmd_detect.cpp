// ptft detect --model CKPT (IMAGE | DIR)... [--out DIR] [--conf 0.25] [--iou 0.7] [--max-det 300]
//             [--batch-size 8] [--json] [--threads N]
// Per image: OUT/<stem>.json (the detections) and OUT/<stem>.png (the image with the boxes drawn).
// A directory stands for its images (PNG, JPEG, BMP); OUT defaults to runs/detect/predict (then
// predict2, predict3, ... as Ultralytics numbers them).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ptft/core/device.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/data/image_io.h"
#include "ptft/infer/detection_output.h"
#include "ptft/infer/draw_boxes.h"
#include "ptft/infer/object_detector.h"

namespace ptft::cli {
namespace {

namespace sfs = std::filesystem;

bool is_image_name(const sfs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The image files the arguments name: files as given, a directory's images (by extension, sorted,
// not recursive). Every one must exist before anything is loaded or written.
std::vector<std::string> image_files(const std::vector<std::string>& args) {
  if (args.empty()) throw UserError("no images to detect objects in", "pass image files or a folder of images after the options");
  std::vector<std::string> files;
  for (const std::string& a : args) {
    std::error_code ec;
    if (!sfs::exists(a, ec)) throw UserError("image '" + a + "' does not exist", "check the path");
    if (!sfs::is_directory(a, ec)) {
      files.push_back(a);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : sfs::directory_iterator(a, ec))
      if (e.is_regular_file() && is_image_name(e.path())) found.push_back(e.path().string());
    if (found.empty()) throw UserError("folder '" + a + "' holds no images (.png, .jpg, .jpeg, .bmp)", "pass a folder of images");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// Ultralytics' default: runs/detect/predict, else the first of predict2, predict3, ... not there.
std::string default_out_dir() {
  std::error_code ec;
  for (int n = 1;; ++n) {
    const std::string dir = "runs/detect/predict" + (n == 1 ? std::string() : std::to_string(n));
    if (!sfs::exists(dir, ec)) return dir;
  }
}

void make_out_dir(const std::string& dir) {
  std::error_code ec;
  sfs::create_directories(dir, ec);
  if (ec || !sfs::is_directory(dir))
    throw UserError("cannot create the output directory '" + dir + "'" + (ec ? ": " + ec.message() : ": a file has that name"),
                    "pass --out a directory that can be created and written");
}

}  // namespace

Action add_detect(CLI::App& app) {
  auto* sub = app.add_subcommand("detect", "Find objects in images with a detector (yolo): boxes as JSON and an "
                                           "annotated PNG per image");
  auto model = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto opt = std::make_shared<DetectOptions>();
  auto batch = std::make_shared<int64_t>(8);
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  sub->add_option("--model", *model, "checkpoint or run directory of a detector (model.family yolo)")->required();
  sub->add_option("images", *files, "image files (PNG, JPEG, BMP) or folders of them");
  sub->add_option("--out", *out, "directory for <stem>.json and <stem>.png per image (created; default "
                                 "runs/detect/predict, predict2, ...)");
  sub->add_option("--conf", opt->conf, "minimum class score of a detection, in [0, 1]")->capture_default_str();
  sub->add_option("--iou", opt->iou, "NMS: drop a box overlapping a better one of its class by more IoU, in [0, 1]")
      ->capture_default_str();
  sub->add_option("--max-det", opt->max_det, "detections kept per image")->capture_default_str();
  sub->add_option("--batch-size", *batch, "images per forward pass")->capture_default_str();
  sub->add_flag("--json", *json,
                "print {\"images\": [{\"image\", \"width\", \"height\", \"detections\", \"json\", \"png\"}], "
                "\"speed_ms\"} on stdout");
  sub->add_option("--threads", *threads, "intra-op threads (0 = all cores)")->capture_default_str();
  return [=] {
    set_threads(*threads);
    opt->validate();
    *files = image_files(*files);
    const ObjectDetector det = load_object_detector(*model);
    if (out->empty()) *out = default_out_dir();
    make_out_dir(*out);
    const std::vector<std::string> stems = unique_output_stems(*files);
    const size_t bs = static_cast<size_t>(std::max<int64_t>(1, *batch));
    DetectTiming timing;
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (size_t start = 0; start < files->size(); start += bs) {
      const size_t end = std::min(files->size(), start + bs);
      std::vector<torch::Tensor> images;
      for (size_t i = start; i < end; ++i) images.push_back(decode_image((*files)[i]));  // (H, W, C) uint8
      const auto dets = detect_batch(det, images, *opt, &timing);
      for (size_t i = start; i < end; ++i) {
        const torch::Tensor& img = images[i - start];
        const std::vector<Detection>& d = dets[i - start];
        const std::string base = (sfs::path(*out) / stems[i]).string();
        nlohmann::ordered_json rec = detections_json((*files)[i], img.size(1), img.size(0), d, det.classes);
        fs::write_file_atomic(base + ".json", rec.dump(2) + "\n");
        write_png(base + ".png", draw_detections(img, d, det.classes));
        if (*json) {
          rec["json"] = base + ".json";
          rec["png"] = base + ".png";
          all.push_back(std::move(rec));
        } else {
          std::cout << (*files)[i] << ": " << img.size(1) << "x" << img.size(0) << ", " << count_by_class(d, det.classes)
                    << " -> " << base << ".{json,png}\n";
        }
      }
    }
    const double n = static_cast<double>(std::max<int64_t>(1, timing.images));
    const nlohmann::ordered_json speed = {{"preprocess", timing.preprocess_ms / n},
                                  {"inference", timing.inference_ms / n},
                                  {"postprocess", timing.postprocess_ms / n}};
    char line[160];
    std::snprintf(line, sizeof line, "%lld image(s), per image: %.1f ms letterbox, %.1f ms forward, %.1f ms decode + NMS",
                  static_cast<long long>(timing.images), speed["preprocess"].get<double>(),
                  speed["inference"].get<double>(), speed["postprocess"].get<double>());
    std::cout.flush();
    std::cerr << line << "; results in " << *out << std::endl;
    if (*json)
      std::cout << nlohmann::ordered_json{{"images", all}, {"speed_ms", speed}}.dump(-1, ' ', false,
                                                                            nlohmann::json::error_handler_t::replace)
                << std::endl;
    std::cout.flush();
    return 0;
  };
}

}  // namespace ptft::cli
