// ptft/data/augment.h — training augmentation as batched tensor ops on (B, C, H, W) float.
//
// Every example draws its own parameters from its own key (ExampleRng): image sources key an
// example by (seed, global stream position), so a training batch is a pure function of its
// address (exact resume, any split into micro-batches or ranks gives the same pixels), and the
// same image looks different in each epoch. Evaluation uses none of this (image_preprocess.h).
//
// Order (augment_batch): random resized crop -> pad + random crop -> horizontal flip -> colour
// jitter (brightness, contrast, saturation; clamped to [0, 1]) -> normalise -> random erasing
// (the rectangle becomes 0, i.e. the mean colour). Each op is exposed on its own with its
// parameters as tensors, for tests and for other tasks (detection flips its boxes too).
//
//   std::vector<uint64_t> keys = ...;                                   // one per example
//   torch::Tensor x = augment_batch(x01, cfg.augment, keys, mean, std); // (B, C, H, W) normalised
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "ptft/data/image_config.h"

namespace ptft {

// A tiny counter-based generator (SplitMix64): the k-th draw is a function of (key, k) only.
class ExampleRng {
 public:
  explicit ExampleRng(uint64_t key) : state_(key) {}
  uint64_t next();
  double uniform();                       // [0, 1)
  double uniform(double lo, double hi);   // [lo, hi)
  bool bernoulli(double p) { return p > 0 && uniform() < p; }

 private:
  uint64_t state_;
};

// Per-example random parameters of one batch (B rows), drawn by draw_augment.
struct AugmentDraws {
  torch::Tensor crop_boxes;   // (B, 4) float (top, left, height, width) in pixels; the whole image when off
  torch::Tensor pad_offsets;  // (B, 2) int64 (top, left) in [0, 2 * pad_crop]
  torch::Tensor flip;         // (B) bool
  torch::Tensor jitter;       // (B, 3) float brightness, contrast, saturation factors (1 = unchanged)
  torch::Tensor erase_boxes;  // (B, 4) int64 (top, left, height, width); height 0 = no erasing
};
// Draws for images of h x w pixels, one example per key, in key order.
AugmentDraws draw_augment(const AugmentConfig& cfg, const std::vector<uint64_t>& keys, int64_t h, int64_t w);

// Crops box b of example b (fractional pixels) and resizes it back to H x W (bilinear,
// grid_sample, align_corners = false). boxes (B, 4) float (top, left, height, width).
torch::Tensor resized_crop(const torch::Tensor& x, const torch::Tensor& boxes);
// Pads `pad` zero pixels on every side and takes the H x W window at offsets (B, 2) int64.
// Offset (pad, pad) gives the input back.
torch::Tensor pad_crop(const torch::Tensor& x, int64_t pad, const torch::Tensor& offsets);
// Mirrors the examples where flip (B) bool is true.
torch::Tensor hflip(const torch::Tensor& x, const torch::Tensor& flip);
// factors (B, 3): brightness (x * b), contrast (blend with the image's mean grey level),
// saturation (blend with the grey image; C = 3 only), each clamped to [0, 1], as torchvision.
torch::Tensor color_jitter(const torch::Tensor& x, const torch::Tensor& factors);
// Sets the rectangle (top, left, height, width) of each example to 0 (all channels).
torch::Tensor erase(const torch::Tensor& x, const torch::Tensor& boxes);

// The whole training transform of (B, C, H, W) float in [0, 1]: the ops above that `cfg`
// enables (in the order above), normalisation with mean / std (C values each) before erasing.
torch::Tensor augment_batch(const torch::Tensor& x01, const AugmentConfig& cfg, const std::vector<uint64_t>& keys,
                            const std::vector<double>& mean, const std::vector<double>& std);

}  // namespace ptft
