// ptft/data/detection_config.h — the `data.detection` section: how object-detection data (the
// Ultralytics layout, ptft/data/yolo_dataset.h) becomes training batches. Torch-free (bound by
// the run config like every section). Names and defaults follow Ultralytics' hyperparameters
// (hyp: mosaic, close_mosaic, fliplr, hsv_h/s/v, scale, translate) where they exist.
//
//   data:
//     train: data/scenes/data.yaml          # data.yaml: train/val splits and class names
//     detection: {size: 160, mosaic: 1.0, close_mosaic: 2, fliplr: 0.5, scale: 0.5}
//
// Training pipeline per example (ptft/data/detection_augment.h): mosaic of 4 images with
// probability `mosaic` (never in the last close_mosaic epochs), else the letterboxed image; a
// random affine (scale in [1 - scale, 1 + scale], translation up to +-translate of the side);
// horizontal flip with probability fliplr; HSV jitter (gains hsv_h, hsv_s, hsv_v). Boxes follow
// every geometric step; a box left with less than min_box_area of its area (or under 2 pixels on
// a side) after clipping is dropped. Evaluation: letterbox only.
#pragma once

#include <cstdint>
#include <string>

namespace ptft {

struct DetectionDataConfig {
  int64_t size = 0;               // model input side (letterboxed square); 0 = the model's image_size
  double mosaic = 1.0;            // probability of a 4-image mosaic per training example
  int64_t close_mosaic = 2;       // no mosaic in the last N epochs (Ultralytics: 10 of 100+)
  double fliplr = 0.5;            // probability of a horizontal flip
  double hsv_h = 0.015;           // hue gain (fraction of the hue circle)
  double hsv_s = 0.7;             // saturation gain
  double hsv_v = 0.4;             // value gain
  double scale = 0.5;             // random scale in [1 - scale, 1 + scale]
  double translate = 0.1;         // random translation up to +-translate x side
  double min_box_area = 0.25;     // boxes keeping less of their area after clipping are dropped
  int64_t max_objects = 100;      // ground-truth boxes per image in a batch (more: error naming the file)
  int64_t per_split = 0;          // keep only the first N training images (few-shot runs); 0 = all
  template <class V> void visit(V& v) {
    v("size", size, "input side in pixels (letterboxed square); 0 = the model's image_size");
    v("mosaic", mosaic, "probability of a 4-image mosaic per training example");
    v("close_mosaic", close_mosaic, "no mosaic in the last N epochs");
    v("fliplr", fliplr, "probability of a horizontal flip");
    v("hsv_h", hsv_h, "HSV jitter: hue gain (fraction of the hue circle)");
    v("hsv_s", hsv_s, "HSV jitter: saturation gain");
    v("hsv_v", hsv_v, "HSV jitter: value gain");
    v("scale", scale, "random scale in [1 - scale, 1 + scale]");
    v("translate", translate, "random translation up to +-translate x side");
    v("min_box_area", min_box_area, "drop boxes that keep less than this share of their area after clipping");
    v("max_objects", max_objects, "most ground-truth boxes per image");
    v("per_split", per_split, "few-shot: keep only the first N training images (0 = all)");
  }
  void validate() const;  // UserError naming data.detection.KEY
};

}  // namespace ptft
