#include "ptft/data/letterbox.h"

#include <algorithm>
#include <cmath>

#include "ptft/core/error.h"
#include "ptft/data/image_io.h"

namespace ptft {

torch::Tensor resize_long_side(const torch::Tensor& hwc_uint8, int64_t size) {
  if (hwc_uint8.dim() != 3 || hwc_uint8.scalar_type() != torch::kUInt8 ||
      (hwc_uint8.size(2) != 1 && hwc_uint8.size(2) != 3))
    throw InternalError("resize_long_side (letterbox) wants (H, W, 1|3) uint8, got " + std::to_string(hwc_uint8.dim()) + " dimensions");
  if (size <= 0) throw InternalError("resize_long_side (letterbox) size must be > 0");
  const int64_t h = hwc_uint8.size(0), w = hwc_uint8.size(1);
  const double scale = static_cast<double>(size) / static_cast<double>(std::max(h, w));
  const int64_t nw = std::clamp<int64_t>(std::llround(w * scale), 1, size);
  const int64_t nh = std::clamp<int64_t>(std::llround(h * scale), 1, size);
  torch::Tensor x = hwc_uint8.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat);  // (1, C, H, W)
  if (x.size(1) == 1) x = x.expand({1, 3, x.size(2), x.size(3)});
  return resize_bilinear(x, nh, nw).round().clamp(0, 255).to(torch::kUInt8)[0];  // (3, nh, nw)
}

Letterbox letterbox(const torch::Tensor& hwc_uint8, int64_t size) {
  const torch::Tensor x = resize_long_side(hwc_uint8, size);  // (3, nh, nw)
  Letterbox lb;
  lb.orig_h = hwc_uint8.size(0);
  lb.orig_w = hwc_uint8.size(1);
  lb.scale = static_cast<double>(size) / static_cast<double>(std::max(lb.orig_h, lb.orig_w));
  const int64_t nh = x.size(1), nw = x.size(2);
  lb.pad_x = static_cast<double>((size - nw) / 2);
  lb.pad_y = static_cast<double>((size - nh) / 2);
  lb.image = torch::full({3, size, size}, kLetterboxFill, torch::kUInt8);
  lb.image.narrow(1, static_cast<int64_t>(lb.pad_y), nh).narrow(2, static_cast<int64_t>(lb.pad_x), nw).copy_(x);
  return lb;
}

Box unletterbox_box(const Box& b, const Letterbox& lb) {
  auto cx = [&](double v) { return std::clamp((v - lb.pad_x) / lb.scale, 0.0, static_cast<double>(lb.orig_w)); };
  auto cy = [&](double v) { return std::clamp((v - lb.pad_y) / lb.scale, 0.0, static_cast<double>(lb.orig_h)); };
  return Box{cx(b.x1), cy(b.y1), cx(b.x2), cy(b.y2)};
}

}  // namespace ptft
