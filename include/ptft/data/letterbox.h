// ptft/data/letterbox.h — Ultralytics' letterbox: scale an image so its longer side fits a square
// of `size` pixels (aspect kept), centre it, and fill the border with grey 114. Detection
// training (evaluation batches), `ptft detect` and the benchmark all feed the detector this way;
// boxes found in the square map back to the original image with unletterbox_box.
//
//   Letterbox lb = letterbox(img_hwc_uint8, 160);   // lb.image: (3, 160, 160) uint8
//   Box b = unletterbox_box(box_in_square, lb);      // original pixel coordinates, clipped
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "ptft/core/boxes.h"

namespace ptft {

constexpr int64_t kLetterboxFill = 114;

struct Letterbox {
  torch::Tensor image;          // (3, size, size) uint8 (grey input is expanded to 3 channels)
  double scale = 1;             // square pixels per original pixel
  double pad_x = 0, pad_y = 0;  // offset of the scaled image inside the square
  int64_t orig_w = 0, orig_h = 0;
};

// img: (H, W, C) uint8, C in {1, 3} -> (3, h, w) uint8 with the longer side = size (up or down,
// aspect kept): the first half of letterbox, and the stored form of detection training images.
torch::Tensor resize_long_side(const torch::Tensor& hwc_uint8, int64_t size);

// img: (H, W, C) uint8, C in {1, 3}. The scaled side is round(side * scale); bilinear resizing
// (ptft/data/image_io.h resize_bilinear); the image sits at pad = floor((size - scaled) / 2).
Letterbox letterbox(const torch::Tensor& hwc_uint8, int64_t size);

// A box in square coordinates -> original image coordinates, clipped to the image.
Box unletterbox_box(const Box& b, const Letterbox& lb);

}  // namespace ptft
