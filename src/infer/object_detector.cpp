#include "ptft/infer/object_detector.h"

#include <chrono>

#include "ptft/core/error.h"
#include "ptft/data/letterbox.h"
#include "ptft/models/detector.h"

namespace ptft {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string fmt(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

ObjectDetector load_object_detector(const std::string& path) {
  return as_object_detector(load_pretrained(path, {/*require_tokenizer=*/false, /*language_model_for=*/""}));
}

ObjectDetector as_object_detector(Pretrained pretrained) {
  ObjectDetector det;
  det.pretrained = std::move(pretrained);
  det.model = std::dynamic_pointer_cast<DetectorImpl>(det.pretrained.model);
  if (!det.model) {
    const std::string family = det.pretrained.model->family();
    const bool classifier = !det.pretrained.model->class_names().empty();
    throw UserError("'" + det.pretrained.dir + "' holds a " + family + " model, not an object detector (family yolo)",
                    classifier ? "use `ptft predict --model " + det.pretrained.dir + " IMAGE...` to label images "
                                     "with a classifier; detect needs a checkpoint of a run with model.family yolo"
                               : "detect needs a checkpoint of a run with model.family yolo");
  }
  det.classes = det.model->class_names();
  det.image_size = det.model->config().image_size;
  det.model->eval();
  return det;
}

void DetectOptions::validate() const {
  if (!(conf >= 0 && conf <= 1))
    throw UserError("--conf " + fmt(conf) + " is outside [0, 1]",
                    "pass --conf between 0 and 1 (default 0.25): the class score a box needs to be reported");
  if (!(iou >= 0 && iou <= 1))
    throw UserError("--iou " + fmt(iou) + " is outside [0, 1]",
                    "pass --iou between 0 and 1 (default 0.7): boxes of a class overlapping a better one by more "
                    "are dropped");
  if (max_det < 1)
    throw UserError("--max-det " + std::to_string(max_det) + " keeps no detection", "pass --max-det 1 or more (default 300)");
}

std::vector<std::vector<Detection>> detect_batch(const ObjectDetector& det, const std::vector<torch::Tensor>& images,
                                                 const DetectOptions& opt, DetectTiming* timing) {
  opt.validate();
  if (images.empty()) return {};
  torch::NoGradGuard no_grad;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Letterbox> boxes;
  std::vector<torch::Tensor> xs;
  for (const torch::Tensor& img : images) {
    boxes.push_back(letterbox(img, det.image_size));
    xs.push_back(boxes.back().image);  // (3, S, S) uint8
  }
  const torch::Tensor x = torch::stack(xs).to(torch::kFloat).div_(255.0);  // (B, 3, S, S) in [0, 1]
  const double pre = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  const TensorMap out = det.model->forward({{"x", x}});
  const double inf = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<Detection>> dets = decode_detections(out, opt.conf, opt.iou, opt.max_det);
  PTFT_CHECK(dets.size() == images.size(), "decode_detections returned " + std::to_string(dets.size()) +
                                               " images for " + std::to_string(images.size()));
  for (size_t i = 0; i < dets.size(); ++i)
    for (Detection& d : dets[i]) d.box = unletterbox_box(d.box, boxes[i]);
  if (timing) {
    timing->preprocess_ms += pre;
    timing->inference_ms += inf;
    timing->postprocess_ms += ms_since(t0);
    timing->images += static_cast<int64_t>(images.size());
  }
  return dets;
}

std::vector<Detection> detect(const ObjectDetector& det, const torch::Tensor& image, const DetectOptions& opt) {
  return detect_batch(det, {image}, opt).at(0);
}

}  // namespace ptft
