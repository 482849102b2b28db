// ptft/infer/object_detector.h — a trained object detector (family "yolo", ptft/models/detector.h)
// ready to use on images of any size: what `ptft detect` and the detection benchmark run.
//
// detect() letterboxes each image to the model's square input (ptft/data/letterbox.h, at
// config().image_size), runs the forward pass in eval mode without autograd, decodes the boxes
// (score > conf, per-class NMS at IoU > iou, at most max_det) and maps them back to the original
// image's pixels.
//
//   ObjectDetector det = load_object_detector("runs/scenes");            // checkpoint or run dir
//   torch::Tensor img = decode_image("street.jpg");                      // (H, W, 3) uint8
//   std::vector<Detection> boxes = detect(det, img, {/*conf=*/0.25, /*iou=*/0.7, /*max_det=*/300});
//   det.classes[boxes[0].cls];                                           // "car"
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "ptft/core/boxes.h"
#include "ptft/infer/pretrained.h"

namespace ptft {

class DetectorImpl;

struct ObjectDetector {
  Pretrained pretrained;                   // model in eval mode
  std::shared_ptr<DetectorImpl> model;     // the same model as a detector
  std::vector<std::string> classes;        // class id i is classes[i]
  int64_t image_size = 0;                  // side of the square input
};

// Loads a checkpoint or run directory (ptft/infer/pretrained.h). A model of another family is a
// UserError that names it (and points classifiers to `ptft predict`).
ObjectDetector load_object_detector(const std::string& path);
// The same for a model already loaded.
ObjectDetector as_object_detector(Pretrained pretrained);

struct DetectOptions {
  double conf = 0.25;    // minimum class score in [0, 1]
  double iou = 0.7;      // NMS IoU threshold in [0, 1]
  int64_t max_det = 300; // detections kept per image (>= 1)
  void validate() const; // UserError naming the value and the command-line option
};

// Where detect_batch spent its time, summed over its calls (milliseconds).
struct DetectTiming {
  double preprocess_ms = 0;   // letterbox and conversion to float
  double inference_ms = 0;    // forward pass
  double postprocess_ms = 0;  // decode, NMS, mapping back to the original pixels
  int64_t images = 0;
};

// Detections of each image ((H, W, 1|3) uint8, any sizes), in that image's pixel coordinates,
// by descending score. All images go through one forward pass; `timing`, when given, is added to.
std::vector<std::vector<Detection>> detect_batch(const ObjectDetector& det, const std::vector<torch::Tensor>& images,
                                                 const DetectOptions& opt, DetectTiming* timing = nullptr);
std::vector<Detection> detect(const ObjectDetector& det, const torch::Tensor& image, const DetectOptions& opt);

}  // namespace ptft
