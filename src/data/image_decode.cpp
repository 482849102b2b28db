#include "ptft/data/image_decode.h"

#include <cctype>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include "ptft/core/error.h"
#include "stb_guard.h"

// stb_image: header-only C, compiled into this file with internal linkage (no clash with any
// other copy in the process; no run-time libstb needed). Its own side limit is stb's default,
// far above ImageLimits: ptft's check (with its message) decides, stb's stays a backstop.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_MAX_DIMENSIONS (1 << 24)
// Zeroed allocations: stb mallocs its JPEG decoder state and decodes a scan with whatever Huffman
// table it names, defined by a DHT segment or not; an undefined one read as garbage indexes past
// its arrays (found by fuzz_image_decode). Zeroed, it decodes every code as symbol 0: nothing
// out of bounds, and the image comes out wrong or damaged.
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
#define STBI_NO_HDR  // 8-bit images only
#define STBI_NO_LINEAR
// The formats ptft documents; stb picks a decoder by content, so every format compiled in can be
// reached by any file: PSD and PIC are left out.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace ptft {
namespace {

const char* const kImageHint = "ptft reads PNG, JPEG and BMP (also GIF, TGA, PNM); replace or remove the file";
const char* const kShrinkHint = "shrink or crop it first";

std::string dims(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h) + " pixels"; }

const stbi_uc* stb_data(const std::string& bytes) { return reinterpret_cast<const stbi_uc*>(bytes.data()); }

// stb takes an int length: larger files are refused before it sees them.
int stb_length(const std::string& bytes, const std::string& name) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw UserError("image '" + name + "' is " + std::to_string(bytes.size()) + " bytes, more than the 2 GiB an image "
                    "file may have", kShrinkHint);
  return static_cast<int>(bytes.size());
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

ImageInfo read_image_info(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw UserError("image '" + name + "' is empty (0 bytes)", kImageHint);
  if (const auto why = stb_defect(bytes))  // what stb 2.27 would mishandle, even in stbi_info
    throw UserError("image '" + name + "' is damaged (" + *why + ")", kImageHint);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(stb_data(bytes), stb_length(bytes, name), &w, &h, &comp)) {
    const char* why = stbi_failure_reason();
    const std::string reason = why ? why : "unknown format";
    if (reason == "too large")  // a side over STBI_MAX_DIMENSIONS
      throw UserError("image '" + name + "' declares a side of more than " + std::to_string(STBI_MAX_DIMENSIONS) +
                          " pixels, larger than the limit of " + std::to_string(kMaxImageSide) + " per side",
                      kShrinkHint);
    throw UserError("'" + name + "' is not an image ptft can read (" + reason + ")", kImageHint);
  }
  return {w, h, comp};
}

void check_image_size(const ImageInfo& info, const std::string& name, const ImageLimits& limits) {
  if (info.width < 1 || info.height < 1)
    throw UserError("image '" + name + "' declares " + dims(info.width, info.height) + " (an empty image)", kImageHint);
  if (info.width > limits.max_side || info.height > limits.max_side)
    throw UserError("image '" + name + "' is " + dims(info.width, info.height) + ", larger than the limit of " +
                        std::to_string(limits.max_side) + " per side",
                    kShrinkHint);
  const int64_t pixels = info.width * info.height;  // both from an int: no overflow
  if (pixels > limits.max_pixels)
    throw UserError("image '" + name + "' is " + dims(info.width, info.height) + " (" + std::to_string(pixels) +
                        " pixels), more than the limit of " + std::to_string(limits.max_pixels) + " pixels",
                    kShrinkHint);
}

DecodedImage decode_image_pixels(const std::string& bytes, const std::string& name, const ImageLimits& limits) {
  const ImageInfo info = read_image_info(bytes, name);
  check_image_size(info, name, limits);
  const int channels = info.channels <= 2 ? 1 : 3;  // grey(+alpha) -> grey, RGB(A) -> RGB
  int w = 0, h = 0, comp = 0;
  DecodedImage out;
  out.pixels = PixelBuffer(stbi_load_from_memory(stb_data(bytes), stb_length(bytes, name), &w, &h, &comp, channels),
                           stbi_image_free);
  if (!out.pixels) {
    const char* why = stbi_failure_reason();
    throw UserError("image '" + name + "' is damaged (" + std::string(why ? why : "no reason given") + ")", kImageHint);
  }
  // The decoder reads the header again: it must agree with what was checked.
  if (w != info.width || h != info.height)
    throw UserError("image '" + name + "' is damaged (its header says " + dims(info.width, info.height) +
                        ", its data " + dims(w, h) + ")",
                    kImageHint);
  out.height = h;
  out.width = w;
  out.channels = channels;
  return out;
}

}  // namespace ptft
