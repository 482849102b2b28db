// ptft/data/detection_augment.h — the object-detection training transforms (Ultralytics' YOLO
// pipeline) as pure functions on one image and its boxes.
//
// An image is (3, H, W) uint8; its boxes (N, 4) float corner coordinates in pixels (x1, y1, x2, y2;
// pixel i covers [i, i + 1)) with (N) int64 class ids. Every random choice is drawn from the
// example's own ExampleRng (ptft/data/augment.h), so a training batch is a pure function of its
// address. The draws are separate from the ops (draw_* -> params -> op) so that tests can apply an
// op with hand-chosen parameters.
//
// train_example (the pipeline of ptft/data/detection_config.h):
//   mosaic4 of 4 stored images (probability cfg.mosaic while mosaic is open) -> random_affine of
//   the 2S canvas to S (Ultralytics' random_perspective with border -S/2)
//   else letterbox_square of the stored image -> random_affine S -> S
//   -> hflip (probability cfg.fliplr) -> hsv_jitter (gains from hsv_h, hsv_s, hsv_v).
//
//   DetectionImage im = load_resize(decode_image(path), boxes_px, labels, 160);  // long side 160
//   ExampleRng rng(key);
//   DetectionImage x = train_example(pool, i, /*mosaic_open=*/true, cfg, 160, rng);  // (3, 160, 160)
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "ptft/data/augment.h"
#include "ptft/data/detection_config.h"

namespace ptft {

struct DetectionImage {
  torch::Tensor image;   // (3, H, W) uint8
  torch::Tensor boxes;   // (N, 4) float x1, y1, x2, y2 in pixels of `image`
  torch::Tensor labels;  // (N) int64 class ids
};

// Ultralytics' load_image: hwc (H0, W0, C) uint8, C in {1, 3} -> (3, h, w) uint8 with the longer
// side = size (up or down; aspect kept; the other side round(side * size / long side), as
// letterbox.h), bilinear (resize_bilinear). boxes (N, 4) in pixels of the original image are
// scaled with the image (x by w / W0, y by h / H0).
DetectionImage load_resize(const torch::Tensor& hwc_uint8, const torch::Tensor& boxes, const torch::Tensor& labels,
                           int64_t size);

// The image centred in a size x size square of grey 114 (the letterbox of an image whose longer
// side is already `size`, or less): offset floor((size - w) / 2), floor((size - h) / 2); boxes
// shifted with it.
DetectionImage letterbox_square(const DetectionImage& in, int64_t size);

// Ultralytics' load_mosaic (4 images): a 2S x 2S canvas of grey 114; image 0 ends at the centre
// (xc, yc) from the top left, 1 starts there to the top right, 2 to the bottom left, 3 to the
// bottom right; each is cut where it leaves the canvas. Boxes are shifted with their image,
// clipped to the canvas and dropped when nothing of them is left.
DetectionImage mosaic4(const std::array<const DetectionImage*, 4>& parts, int64_t size, int64_t xc, int64_t yc);
// The mosaic centre: xc, yc each uniform in [S/2, 3S/2) (Ultralytics: int(uniform(s/2, 3s/2))).
std::array<int64_t, 2> draw_mosaic_centre(ExampleRng& rng, int64_t size);

// Scale about the input's centre, then translate: an input point p goes to
// s * (p - centre_in) + (tx, ty), in an out_size x out_size image filled with 114 (bilinear).
struct AffineParams {
  double scale = 1;
  double tx = 0, ty = 0;  // where the input's centre lands, output pixels
};
// scale uniform in [1 - cfg.scale, 1 + cfg.scale]; tx, ty uniform in
// [(0.5 - cfg.translate) * out_size, (0.5 + cfg.translate) * out_size] (Ultralytics' T matrix).
AffineParams draw_affine(ExampleRng& rng, const DetectionDataConfig& cfg, int64_t out_size);
// The image warped; each box's corners transformed, clipped to the output, and the box dropped
// when it keeps less than min_box_area of its (transformed, unclipped) area or has a side under 2
// pixels (Ultralytics' box_candidates). With scale 1 and the centres aligned this is the identity.
DetectionImage random_affine(const DetectionImage& in, int64_t out_size, const AffineParams& p, double min_box_area);

// Mirrors the image left-right; box x1, x2 -> W - x2, W - x1.
DetectionImage hflip(const DetectionImage& in);

// OpenCV's RGB <-> HSV for 8-bit images, in float without its rounding: rgb (3, H, W) float in
// [0, 255] -> hsv (3, H, W) with H in [0, 180) (degrees / 2), S and V in [0, 255]; and back.
torch::Tensor rgb_to_hsv(const torch::Tensor& rgb);
torch::Tensor hsv_to_rgb(const torch::Tensor& hsv);

// Ultralytics' RandomHSV: r = uniform(-1, 1) x (hsv_h, hsv_s, hsv_v), one per channel.
std::array<double, 3> draw_hsv(ExampleRng& rng, const DetectionDataConfig& cfg);
// (3, H, W) uint8 -> (3, H, W) uint8: hue (h + r[0] x 180) mod 180, saturation s x (1 + r[1]),
// value v x (1 + r[2]), each clipped to [0, 255]. r = {0, 0, 0} returns the image unchanged.
torch::Tensor hsv_jitter(const torch::Tensor& chw_uint8, const std::array<double, 3>& r);

// One training example of `pool` (stored images, longer side = size): the pipeline above, every
// draw from `rng` in this order: mosaic or not (only while mosaic_open), the mosaic's three other
// images (uniform over the pool) and centre, the affine, the flip, the HSV gains.
DetectionImage train_example(const std::vector<DetectionImage>& pool, int64_t index, bool mosaic_open,
                             const DetectionDataConfig& cfg, int64_t size, ExampleRng& rng);

}  // namespace ptft
