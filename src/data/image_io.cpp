#include "ptft/data/image_io.h"

#include <cctype>
#include <cstring>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"

// stb_image / stb_image_write: header-only C, compiled into this file with internal linkage
// (no clash with any other copy in the process; no run-time libstb needed).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_MAX_DIMENSIONS 16384  // = kMaxImageSide
#define STBI_NO_HDR                // 8-bit images only
#define STBI_NO_LINEAR
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace ptft {
namespace {

const char* const kImageHint = "ptft reads PNG, JPEG and BMP (also GIF, TGA, PSD, PNM); replace or remove the file";

void check_hwc_uint8(const torch::Tensor& t, const char* what) {
  PTFT_CHECK(t.dim() == 3 && t.scalar_type() == torch::kUInt8,
             std::string(what) + " needs an (H, W, C) uint8 tensor, got " + std::to_string(t.dim()) + " dims of " +
                 std::string(c10::toString(t.scalar_type())));
}

}  // namespace

bool is_image_file(const std::string& path) {
  static const char* const kExtensions[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".pgm", ".ppm", ".pnm"};
  std::string e = std::filesystem::path(path).extension().string();
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* x : kExtensions)
    if (e == x) return true;
  return false;
}

torch::Tensor decode_image_bytes(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw UserError("image '" + name + "' is empty (0 bytes)", kImageHint);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(std::min<std::size_t>(bytes.size(), INT32_MAX));
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp))
    throw UserError("'" + name + "' is not an image ptft can read (" + std::string(stbi_failure_reason()) + ")",
                    kImageHint);
  if (w > kMaxImageSide || h > kMaxImageSide)
    throw UserError("image '" + name + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                        " pixels, larger than the limit of " + std::to_string(kMaxImageSide) + " per side",
                    "shrink it first");
  const int channels = comp <= 2 ? 1 : 3;  // grey(+alpha) -> grey, RGB(A) -> RGB
  stbi_uc* pixels = stbi_load_from_memory(data, len, &w, &h, &comp, channels);
  if (!pixels)
    throw UserError("image '" + name + "' is damaged (" + std::string(stbi_failure_reason()) + ")", kImageHint);
  auto out = torch::empty({h, w, channels}, torch::kUInt8);  // (H, W, C)
  std::memcpy(out.data_ptr<uint8_t>(), pixels, static_cast<std::size_t>(h) * w * channels);
  stbi_image_free(pixels);
  return out;
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
