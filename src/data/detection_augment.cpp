#include "ptft/data/detection_augment.h"

#include <algorithm>
#include <cmath>

#include "ptft/core/error.h"
#include "ptft/data/hsv_kernel.h"
#include "ptft/data/letterbox.h"
#include "hsv_math.h"

namespace ptft {
namespace {

using torch::indexing::Slice;

void check_image(const DetectionImage& in, const char* op) {
  PTFT_CHECK(in.image.dim() == 3 && in.image.size(0) == 3 && in.image.scalar_type() == torch::kUInt8,
             std::string(op) + " needs a (3, H, W) uint8 image");
  PTFT_CHECK(in.boxes.dim() == 2 && in.boxes.size(1) == 4 && in.labels.dim() == 1 &&
                 in.labels.size(0) == in.boxes.size(0),
             std::string(op) + " needs (N, 4) boxes and (N) labels");
}

// Boxes (N, 4) + (dx, dy).
torch::Tensor shift_boxes(const torch::Tensor& boxes, double dx, double dy) {
  return boxes + torch::tensor({dx, dy, dx, dy}, torch::kFloat);
}

// Boxes clipped to [0, w] x [0, h].
torch::Tensor clip_boxes(const torch::Tensor& boxes, double w, double h) {
  auto out = boxes.clone();
  out.select(1, 0).clamp_(0, w);
  out.select(1, 2).clamp_(0, w);
  out.select(1, 1).clamp_(0, h);
  out.select(1, 3).clamp_(0, h);
  return out;
}

// in (3, H, W) uint8 -> (3, S, S) uint8: output pixel centre j + 0.5 samples the input at
// x = (j + 0.5 - tx) / scale + cx (pixel centres at i + 0.5), bilinear, the outside grey 114. The
// arithmetic of torch's grid_sample (bilinear, zero padding, align_corners false) on image - 114
// with its sampling grid in float, written as one loop (it was ~20 tensor ops per image on the
// loader thread, which shares the cores with the training step).
torch::Tensor warp_bilinear(const torch::Tensor& in, int64_t out_size, const AffineParams& p) {
  const torch::Tensor src = in.contiguous();
  const int64_t h = src.size(1), w = src.size(2);
  const double cx = 0.5 * static_cast<double>(w), cy = 0.5 * static_cast<double>(h);
  // Per output column / row: the left (top) source index and the weight of the right (bottom) one.
  auto taps = [&](double t, double centre, int64_t side, std::vector<int64_t>& lo, std::vector<float>& frac) {
    lo.resize(static_cast<size_t>(out_size));
    frac.resize(lo.size());
    for (int64_t j = 0; j < out_size; ++j) {
      const auto g = static_cast<float>(((static_cast<double>(j) + 0.5 - t) / p.scale + centre) *
                                            (2.0 / static_cast<double>(side)) - 1);
      float x = (g + 1.0f) * (static_cast<float>(side) / 2) - 0.5f;  // source pixel coordinate
      // Outside [-1, side] every tap is outside the image (grey), as at -1 or side; held there so
      // that a huge, infinite or NaN coordinate (a scale near 0) never reaches the integer cast.
      if (!(x >= -1.0f)) x = -1.0f;
      if (x > static_cast<float>(side)) x = static_cast<float>(side);
      const float x0 = std::floor(x);
      lo[static_cast<size_t>(j)] = static_cast<int64_t>(x0);
      frac[static_cast<size_t>(j)] = x - x0;
    }
  };
  std::vector<int64_t> x0, y0;
  std::vector<float> fx, fy;
  taps(p.tx, cx, w, x0, fx);
  taps(p.ty, cy, h, y0, fy);
  auto out = torch::empty({3, out_size, out_size}, torch::kUInt8);
  const uint8_t* s = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  const auto fill = static_cast<float>(kLetterboxFill);
  // image - 114 with a border of zeros (grid_sample's zero padding): one row and column before,
  // two after, so that every tap of a coordinate in [-1, side] reads the plane without a test.
  const int64_t pw = w + 3;
  std::vector<float> padded(static_cast<size_t>((h + 3) * pw));
  for (int64_t c = 0; c < 3; ++c) {
    const uint8_t* plane = s + c * h * w;
    std::fill(padded.begin(), padded.end(), 0.0f);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        padded[static_cast<size_t>((y + 1) * pw + x + 1)] = static_cast<float>(plane[y * w + x]) - fill;
    for (int64_t i = 0; i < out_size; ++i) {
      const float* top = padded.data() + (y0[static_cast<size_t>(i)] + 1) * pw + 1;  // row yn, then yn + 1
      const float* bottom = top + pw;
      const float n = fy[static_cast<size_t>(i)], south = 1.0f - n;
      for (int64_t j = 0; j < out_size; ++j) {
        const int64_t xw = x0[static_cast<size_t>(j)];
        const float e = fx[static_cast<size_t>(j)], west = 1.0f - e;
        const float v = top[xw] * (south * west) + top[xw + 1] * (south * e) + bottom[xw] * (n * west) +
                        bottom[xw + 1] * (n * e);
        o[(c * out_size + i) * out_size + j] = static_cast<uint8_t>(std::clamp(std::nearbyint(v + fill), 0.0f, 255.0f));
      }
    }
  }
  return out;
}

// f(r, g, b) -> 3 values, over every pixel of a (3, H, W) float image.
template <class F>
torch::Tensor map_pixels(const torch::Tensor& chw, F&& f) {
  const torch::Tensor in = chw.to(torch::kFloat).contiguous();
  const int64_t n = in.size(1) * in.size(2);
  auto out = torch::empty_like(in);
  const float* a = in.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const auto v = f(a[i], a[n + i], a[2 * n + i]);
    for (int64_t c = 0; c < 3; ++c) o[c * n + i] = v[static_cast<size_t>(c)];
  }
  return out.to(chw.scalar_type());
}

// The rows of `keep` (N) bool.
DetectionImage keep_boxes(torch::Tensor image, const torch::Tensor& boxes, const torch::Tensor& labels,
                          const torch::Tensor& keep) {
  const auto idx = keep.nonzero().select(1, 0);
  return {std::move(image), boxes.index_select(0, idx).contiguous(), labels.index_select(0, idx).contiguous()};
}

int64_t randint(ExampleRng& rng, int64_t lo, int64_t hi) {  // [lo, hi)
  return std::min(hi - 1, lo + static_cast<int64_t>(rng.uniform() * static_cast<double>(hi - lo)));
}

}  // namespace

DetectionImage load_resize(const torch::Tensor& hwc_uint8, const torch::Tensor& boxes, const torch::Tensor& labels,
                           int64_t size) {
  DetectionImage out;
  out.image = resize_long_side(hwc_uint8, size);  // (3, h, w)
  const double sx = static_cast<double>(out.image.size(2)) / static_cast<double>(hwc_uint8.size(1));
  const double sy = static_cast<double>(out.image.size(1)) / static_cast<double>(hwc_uint8.size(0));
  out.boxes = boxes.to(torch::kFloat) * torch::tensor({sx, sy, sx, sy}, torch::kFloat);  // (N, 4)
  out.labels = labels.to(torch::kLong);
  check_image(out, "load_resize");
  return out;
}

DetectionImage letterbox_square(const DetectionImage& in, int64_t size) {
  check_image(in, "letterbox_square");
  const int64_t h = in.image.size(1), w = in.image.size(2);
  PTFT_CHECK(h <= size && w <= size, "letterbox_square: the image is larger than the square");
  const int64_t px = (size - w) / 2, py = (size - h) / 2;
  auto square = torch::full({3, size, size}, kLetterboxFill, torch::kUInt8);
  square.narrow(1, py, h).narrow(2, px, w).copy_(in.image);
  return {square, shift_boxes(in.boxes, static_cast<double>(px), static_cast<double>(py)), in.labels};
}

DetectionImage mosaic4(const std::array<const DetectionImage*, 4>& parts, int64_t size, int64_t xc, int64_t yc) {
  const int64_t s2 = 2 * size;
  auto canvas = torch::full({3, s2, s2}, kLetterboxFill, torch::kUInt8);  // (3, 2S, 2S)
  std::vector<torch::Tensor> boxes, labels;
  for (int i = 0; i < 4; ++i) {
    const DetectionImage& p = *parts[static_cast<std::size_t>(i)];
    check_image(p, "mosaic4");
    const int64_t h = p.image.size(1), w = p.image.size(2);
    // (x1a, y1a, x2a, y2a): the place on the canvas; (x1b, y1b, x2b, y2b): the part of the image.
    int64_t x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;
    if (i == 0) {  // top left
      x1a = std::max<int64_t>(xc - w, 0), y1a = std::max<int64_t>(yc - h, 0), x2a = xc, y2a = yc;
      x1b = w - (x2a - x1a), y1b = h - (y2a - y1a), x2b = w, y2b = h;
    } else if (i == 1) {  // top right
      x1a = xc, y1a = std::max<int64_t>(yc - h, 0), x2a = std::min(xc + w, s2), y2a = yc;
      x1b = 0, y1b = h - (y2a - y1a), x2b = std::min(w, x2a - x1a), y2b = h;
    } else if (i == 2) {  // bottom left
      x1a = std::max<int64_t>(xc - w, 0), y1a = yc, x2a = xc, y2a = std::min(s2, yc + h);
      x1b = w - (x2a - x1a), y1b = 0, x2b = w, y2b = std::min(y2a - y1a, h);
    } else {  // bottom right
      x1a = xc, y1a = yc, x2a = std::min(xc + w, s2), y2a = std::min(s2, yc + h);
      x1b = 0, y1b = 0, x2b = std::min(w, x2a - x1a), y2b = std::min(y2a - y1a, h);
    }
    canvas.index({Slice(), Slice(y1a, y2a), Slice(x1a, x2a)}).copy_(p.image.index({Slice(), Slice(y1b, y2b), Slice(x1b, x2b)}));
    boxes.push_back(shift_boxes(p.boxes.to(torch::kFloat), static_cast<double>(x1a - x1b), static_cast<double>(y1a - y1b)));
    labels.push_back(p.labels);
  }
  const auto b = clip_boxes(torch::cat(boxes), static_cast<double>(s2), static_cast<double>(s2));  // (N, 4)
  const auto keep = (b.select(1, 2) > b.select(1, 0)) & (b.select(1, 3) > b.select(1, 1));
  return keep_boxes(canvas, b, torch::cat(labels), keep);
}

std::array<int64_t, 2> draw_mosaic_centre(ExampleRng& rng, int64_t size) {
  const double lo = 0.5 * static_cast<double>(size), hi = 1.5 * static_cast<double>(size);
  const auto xc = static_cast<int64_t>(rng.uniform(lo, hi));
  const auto yc = static_cast<int64_t>(rng.uniform(lo, hi));
  return {xc, yc};
}

AffineParams draw_affine(ExampleRng& rng, const DetectionDataConfig& cfg, int64_t out_size) {
  AffineParams p;
  p.scale = rng.uniform(1 - cfg.scale, 1 + cfg.scale);
  const double side = static_cast<double>(out_size);
  p.tx = rng.uniform(0.5 - cfg.translate, 0.5 + cfg.translate) * side;
  p.ty = rng.uniform(0.5 - cfg.translate, 0.5 + cfg.translate) * side;
  return p;
}

DetectionImage random_affine(const DetectionImage& in, int64_t out_size, const AffineParams& p, double min_box_area) {
  check_image(in, "random_affine");
  PTFT_CHECK(p.scale > 0, "random_affine: scale must be > 0");
  const int64_t h = in.image.size(1), w = in.image.size(2);
  const double cx = 0.5 * static_cast<double>(w), cy = 0.5 * static_cast<double>(h);

  auto image = warp_bilinear(in.image, out_size, p);  // (3, S, S)

  const auto moved = in.boxes.to(torch::kFloat) * p.scale +
                     torch::tensor({p.tx - p.scale * cx, p.ty - p.scale * cy, p.tx - p.scale * cx, p.ty - p.scale * cy},
                                   torch::kFloat);  // (N, 4)
  const double side = static_cast<double>(out_size);
  const auto clipped = clip_boxes(moved, side, side);
  const auto area = [](const torch::Tensor& b) {
    return (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
  };
  const auto bw = clipped.select(1, 2) - clipped.select(1, 0), bh = clipped.select(1, 3) - clipped.select(1, 1);
  const auto before = area(moved);
  const auto keep = (bw >= 2) & (bh >= 2) & (before > 0) & (area(clipped) >= before * min_box_area);
  return keep_boxes(image, clipped, in.labels, keep);
}

DetectionImage hflip(const DetectionImage& in) {
  check_image(in, "hflip");
  const double w = static_cast<double>(in.image.size(2));
  auto boxes = in.boxes.clone();
  boxes.select(1, 0) = w - in.boxes.select(1, 2);
  boxes.select(1, 2) = w - in.boxes.select(1, 0);
  return {in.image.flip({2}).contiguous(), boxes, in.labels};
}

torch::Tensor rgb_to_hsv(const torch::Tensor& rgb) {
  PTFT_CHECK(rgb.dim() == 3 && rgb.size(0) == 3 && rgb.is_floating_point(), "rgb_to_hsv needs (3, H, W) float");
  return map_pixels(rgb, [](float r, float g, float b) { return hsv::hsv_of(r, g, b); });  // (3, H, W)
}

torch::Tensor hsv_to_rgb(const torch::Tensor& hsv) {
  PTFT_CHECK(hsv.dim() == 3 && hsv.size(0) == 3 && hsv.is_floating_point(), "hsv_to_rgb needs (3, H, W) float");
  return map_pixels(hsv, hsv::rgb_of);  // (3, H, W)
}

std::array<double, 3> draw_hsv(ExampleRng& rng, const DetectionDataConfig& cfg) {
  const double gains[3] = {cfg.hsv_h, cfg.hsv_s, cfg.hsv_v};
  std::array<double, 3> r{};
  for (int k = 0; k < 3; ++k) r[static_cast<std::size_t>(k)] = rng.uniform(-1, 1) * gains[k];
  return r;
}

torch::Tensor hsv_jitter(const torch::Tensor& chw_uint8, const std::array<double, 3>& r) {
  PTFT_CHECK(chw_uint8.dim() == 3 && chw_uint8.size(0) == 3 && chw_uint8.scalar_type() == torch::kUInt8,
             "hsv_jitter needs a (3, H, W) uint8 image");
  if (r[0] == 0 && r[1] == 0 && r[2] == 0) return chw_uint8;
  const auto hue_shift = static_cast<float>(r[0] * 180.0), s_gain = static_cast<float>(1 + r[1]),
             v_gain = static_cast<float>(1 + r[2]);
  const torch::Tensor in = chw_uint8.contiguous();
  auto out = torch::empty_like(in);  // (3, H, W) uint8
  hsv_jitter_planes(in.data_ptr<uint8_t>(), out.data_ptr<uint8_t>(), in.size(1) * in.size(2), hue_shift, s_gain, v_gain);
  return out;
}

DetectionImage train_example(const std::vector<DetectionImage>& pool, int64_t index, bool mosaic_open,
                             const DetectionDataConfig& cfg, int64_t size, ExampleRng& rng) {
  const auto n = static_cast<int64_t>(pool.size());
  PTFT_CHECK(index >= 0 && index < n, "train_example: index outside the pool");
  DetectionImage canvas;
  if (mosaic_open && rng.bernoulli(cfg.mosaic)) {
    std::array<const DetectionImage*, 4> parts{&pool[static_cast<std::size_t>(index)]};
    for (std::size_t k = 1; k < 4; ++k) parts[k] = &pool[static_cast<std::size_t>(randint(rng, 0, n))];
    const auto c = draw_mosaic_centre(rng, size);
    canvas = mosaic4(parts, size, c[0], c[1]);  // (3, 2S, 2S)
  } else {
    canvas = letterbox_square(pool[static_cast<std::size_t>(index)], size);  // (3, S, S)
  }
  DetectionImage out = random_affine(canvas, size, draw_affine(rng, cfg, size), cfg.min_box_area);  // (3, S, S)
  if (rng.bernoulli(cfg.fliplr)) out = hflip(out);
  out.image = hsv_jitter(out.image, draw_hsv(rng, cfg));
  return out;
}

}  // namespace ptft
