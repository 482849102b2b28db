#include "ptft/data/image_io.h"


#include "ptft/core/error.h"
#include "ptft/core/fs.h"

// stb_image_write: header-only C, compiled into this file with internal linkage (no clash with
// any other copy in the process; no run-time libstb needed). Decoding: src/data/image_decode.cpp.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace ptft {
namespace {

void check_hwc_uint8(const torch::Tensor& t, const char* what) {
  PTFT_CHECK(t.dim() == 3 && t.scalar_type() == torch::kUInt8,
             std::string(what) + " needs an (H, W, C) uint8 tensor, got " + std::to_string(t.dim()) + " dims of " +
                 std::string(c10::toString(t.scalar_type())));
}

}  // namespace

torch::Tensor decode_image_bytes(const std::string& bytes, const std::string& name) {
  DecodedImage img = decode_image_pixels(bytes, name);
  const auto free_pixels = img.pixels.get_deleter();
  return torch::from_blob(img.pixels.release(), {img.height, img.width, img.channels}, free_pixels,
                          torch::kUInt8);  // (H, W, C), owning stb's buffer
}

torch::Tensor decode_image(const std::string& path) {
  return decode_image_bytes(fs::read_file(path, "image"), path);
}

std::string encode_png(const torch::Tensor& hwc_uint8) {
  check_hwc_uint8(hwc_uint8, "encode_png");
  const auto img = hwc_uint8.contiguous();
  const int h = static_cast<int>(img.size(0)), w = static_cast<int>(img.size(1)), c = static_cast<int>(img.size(2));
  PTFT_CHECK(c == 1 || c == 3 || c == 4, "encode_png: " + std::to_string(c) + " channels");
  PTFT_CHECK(h > 0 && w > 0, "encode_png: empty image");
  std::string out;
  auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &out, w, h, c, img.data_ptr<uint8_t>(), w * c))
    throw InternalError("encode_png: stb_image_write failed for a " + std::to_string(w) + "x" + std::to_string(h) +
                        "x" + std::to_string(c) + " image");
  return out;
}

void write_png(const std::string& path, const torch::Tensor& hwc_uint8) {
  fs::write_file_atomic(path, encode_png(hwc_uint8));
}

torch::Tensor resize_bilinear(const torch::Tensor& bchw, int64_t h, int64_t w) {
  PTFT_CHECK(bchw.dim() == 4 && bchw.is_floating_point(), "resize_bilinear needs (B, C, H, W) float");
  PTFT_CHECK(h > 0 && w > 0, "resize_bilinear to " + std::to_string(h) + "x" + std::to_string(w));
  namespace F = torch::nn::functional;
  torch::Tensor x = bchw;
  if (x.size(2) == h && x.size(3) == w) return x;
  // Shrinking by more than 2x: average areas down to 2x the target first (no antialias in 1.13).
  const int64_t mid_h = x.size(2) > 2 * h ? 2 * h : x.size(2), mid_w = x.size(3) > 2 * w ? 2 * w : x.size(3);
  if (mid_h != x.size(2) || mid_w != x.size(3))
    x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{mid_h, mid_w}).mode(torch::kArea));
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{h, w})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace ptft
