#include "ptft/data/augment.h"

#include <cmath>
#include <cstring>

#include "ptft/core/error.h"
#include "ptft/data/image_preprocess.h"
#include "ptft/data/sampling.h"

namespace ptft {
namespace {

using torch::indexing::Slice;

int64_t randint(ExampleRng& rng, int64_t lo, int64_t hi) {  // [lo, hi)
  return std::min(hi - 1, lo + static_cast<int64_t>(rng.uniform() * static_cast<double>(hi - lo)));
}

// A box of `share` (a range) of the h x w area with aspect in [ratio_lo, ratio_hi] (log-uniform),
// as torchvision draws them: 10 attempts; false when none fits.
bool draw_box(ExampleRng& rng, int64_t h, int64_t w, double share_lo, double share_hi, double ratio_lo,
              double ratio_hi, bool strictly_inside, int64_t box[4]) {
  const double area = static_cast<double>(h * w);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(share_lo, share_hi);
    const double ratio = std::exp(rng.uniform(std::log(ratio_lo), std::log(ratio_hi)));  // width / height
    const auto bw = static_cast<int64_t>(std::lround(std::sqrt(target * ratio)));
    const auto bh = static_cast<int64_t>(std::lround(std::sqrt(target / ratio)));
    const bool fits = strictly_inside ? (bh < h && bw < w) : (bh <= h && bw <= w);
    if (bh > 0 && bw > 0 && fits) {
      box[0] = randint(rng, 0, h - bh + 1);
      box[1] = randint(rng, 0, w - bw + 1);
      box[2] = bh;
      box[3] = bw;
      return true;
    }
  }
  return false;
}

void check_batch(const torch::Tensor& x, const char* op) {
  PTFT_CHECK(x.dim() == 4 && x.is_floating_point(), std::string(op) + " needs (B, C, H, W) float");
}

}  // namespace

uint64_t ExampleRng::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return splitmix64(state_);
}

double ExampleRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double ExampleRng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

AugmentDraws draw_augment(const AugmentConfig& cfg, const std::vector<uint64_t>& keys, int64_t h, int64_t w) {
  const auto B = static_cast<int64_t>(keys.size());
  auto crop = torch::empty({B, 4}, torch::kFloat);
  auto offsets = torch::empty({B, 2}, torch::kLong);
  auto flip = torch::empty({B}, torch::kBool);
  auto jitter = torch::empty({B, 3}, torch::kFloat);
  auto erase_boxes = torch::zeros({B, 4}, torch::kLong);
  auto* pc = crop.data_ptr<float>();
  auto* po = offsets.data_ptr<int64_t>();
  auto* pf = flip.data_ptr<bool>();
  auto* pj = jitter.data_ptr<float>();
  auto* pe = erase_boxes.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    ExampleRng rng(keys[b]);
    int64_t box[4] = {0, 0, h, w};
    if (cfg.resized_crop[0] < 1.0 &&
        !draw_box(rng, h, w, cfg.resized_crop[0], cfg.resized_crop[1], 3.0 / 4.0, 4.0 / 3.0, false, box)) {
      box[0] = 0, box[1] = 0, box[2] = h, box[3] = w;  // torchvision's fallback for odd shapes: the whole image
    }
    for (int k = 0; k < 4; ++k) pc[b * 4 + k] = static_cast<float>(box[k]);
    po[b * 2] = cfg.pad_crop > 0 ? randint(rng, 0, 2 * cfg.pad_crop + 1) : 0;
    po[b * 2 + 1] = cfg.pad_crop > 0 ? randint(rng, 0, 2 * cfg.pad_crop + 1) : 0;
    pf[b] = rng.bernoulli(cfg.hflip);
    for (int k = 0; k < 3; ++k)
      pj[b * 3 + k] = cfg.jitter > 0 ? static_cast<float>(rng.uniform(1.0 - cfg.jitter, 1.0 + cfg.jitter)) : 1.0f;
    if (rng.bernoulli(cfg.erasing)) {
      int64_t e[4];
      if (draw_box(rng, h, w, 0.02, 0.33, 0.3, 3.3, true, e))
        for (int k = 0; k < 4; ++k) pe[b * 4 + k] = e[k];
    }
  }
  return {crop, offsets, flip, jitter, erase_boxes};
}

torch::Tensor resized_crop(const torch::Tensor& x, const torch::Tensor& boxes) {
  check_batch(x, "resized_crop");
  const int64_t B = x.size(0);
  const double H = static_cast<double>(x.size(2)), W = static_cast<double>(x.size(3));
  auto b = boxes.to(torch::kDouble);
  auto top = b.select(1, 0), left = b.select(1, 1), bh = b.select(1, 2), bw = b.select(1, 3);  // (B)
  // Output coordinate u in [-1, 1] (pixel edges, align_corners = false) samples the input at
  // sx * u + cx: the box's edges map to the output's edges.
  auto theta = torch::zeros({B, 2, 3}, torch::kDouble);
  theta.select(1, 0).select(1, 0).copy_(bw / W);
  theta.select(1, 0).select(1, 2).copy_((2 * left + bw) / W - 1);
  theta.select(1, 1).select(1, 1).copy_(bh / H);
  theta.select(1, 1).select(1, 2).copy_((2 * top + bh) / H - 1);
  auto grid = torch::nn::functional::affine_grid(theta.to(x.options()), x.sizes(), /*align_corners=*/false);
  return torch::nn::functional::grid_sample(x, grid,
                                            torch::nn::functional::GridSampleFuncOptions()
                                                .mode(torch::kBilinear)
                                                .padding_mode(torch::kBorder)
                                                .align_corners(false));
}

torch::Tensor pad_crop(const torch::Tensor& x, int64_t pad, const torch::Tensor& offsets) {
  check_batch(x, "pad_crop");
  if (pad == 0) return x;
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  auto off = offsets.to(torch::kCPU, torch::kLong).contiguous();
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat) {
    // out[b, c, y, x] = in[b, c, y + dy, x + dx] (0 outside), dy/dx = offset - pad: row copies.
    const auto in = x.contiguous();
    auto out = torch::zeros_like(in);
    const float* src = in.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const int64_t* o = off.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      const int64_t dy = o[2 * b] - pad, dx = o[2 * b + 1] - pad;
      const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min<int64_t>(W, W - dx);  // output columns
      if (x1 <= x0) continue;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = std::max<int64_t>(0, -dy); y < std::min<int64_t>(H, H - dy); ++y)
          std::memcpy(dst + ((b * C + c) * H + y) * W + x0, src + ((b * C + c) * H + y + dy) * W + x0 + dx,
                      static_cast<std::size_t>(x1 - x0) * sizeof(float));
    }
    return out;
  }
  // Other devices / dtypes: one gather by advanced indexing.
  auto padded = torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0);  // (B, C, H+2p, W+2p)
  off = off.to(x.device());
  auto rows = off.select(1, 0).view({B, 1}) + torch::arange(H, off.options()).view({1, H});  // (B, H)
  auto cols = off.select(1, 1).view({B, 1}) + torch::arange(W, off.options()).view({1, W});  // (B, W)
  auto batch = torch::arange(B, off.options()).view({B, 1, 1});
  // Advanced indices around a slice: the result is (B, H, W, C).
  auto out = padded.index({batch, Slice(), rows.view({B, H, 1}), cols.view({B, 1, W})});
  return out.permute({0, 3, 1, 2}).contiguous();  // (B, C, H, W)
}

torch::Tensor hflip(const torch::Tensor& x, const torch::Tensor& flip) {
  check_batch(x, "hflip");
  return torch::where(flip.to(x.device()).view({x.size(0), 1, 1, 1}), x.flip({3}), x);
}

torch::Tensor color_jitter(const torch::Tensor& x, const torch::Tensor& factors) {
  check_batch(x, "color_jitter");
  const int64_t B = x.size(0), C = x.size(1);
  auto f = factors.to(x.options());
  auto factor = [&](int k) { return f.select(1, k).view({B, 1, 1, 1}); };
  auto grey = [&](const torch::Tensor& t) { return C == 3 ? convert_channels(t, 1) : t; };  // (B, 1, H, W)
  auto out = (x * factor(0)).clamp_(0, 1);                                                  // brightness
  auto mean = grey(out).mean({1, 2, 3}, /*keepdim=*/true);                                  // (B, 1, 1, 1)
  out = (factor(1) * out + (1 - factor(1)) * mean).clamp_(0, 1);                             // contrast
  if (C == 3) out = (factor(2) * out + (1 - factor(2)) * grey(out)).clamp_(0, 1);           // saturation
  return out;
}

torch::Tensor erase(const torch::Tensor& x, const torch::Tensor& boxes) {
  check_batch(x, "erase");
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  auto b = boxes.to(torch::TensorOptions().dtype(torch::kLong).device(x.device()));
  auto top = b.select(1, 0).view({B, 1, 1}), left = b.select(1, 1).view({B, 1, 1});
  auto bottom = top + b.select(1, 2).view({B, 1, 1}), right = left + b.select(1, 3).view({B, 1, 1});
  auto rows = torch::arange(H, b.options()).view({1, H, 1});
  auto cols = torch::arange(W, b.options()).view({1, 1, W});
  auto mask = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right);  // (B, H, W)
  return x.masked_fill(mask.unsqueeze(1), 0);
}

torch::Tensor augment_batch(const torch::Tensor& x01, const AugmentConfig& cfg, const std::vector<uint64_t>& keys,
                            const std::vector<double>& mean, const std::vector<double>& std) {
  check_batch(x01, "augment_batch");
  PTFT_CHECK(static_cast<int64_t>(keys.size()) == x01.size(0),
             "augment_batch: " + std::to_string(keys.size()) + " keys for " + std::to_string(x01.size(0)) + " images");
  if (!cfg.active()) return normalize(x01, mean, std);
  const AugmentDraws d = draw_augment(cfg, keys, x01.size(2), x01.size(3));
  torch::Tensor x = x01;
  if (cfg.resized_crop[0] < 1.0) x = resized_crop(x, d.crop_boxes);
  if (cfg.pad_crop > 0) x = pad_crop(x, cfg.pad_crop, d.pad_offsets);
  if (cfg.hflip > 0) x = hflip(x, d.flip);
  if (cfg.jitter > 0) x = color_jitter(x, d.jitter);
  x = normalize(x, mean, std);
  if (cfg.erasing > 0) x = erase(x, d.erase_boxes);
  return x;
}

}  // namespace ptft
