// ptft/data/image_decode.h — image file bytes -> (H, W, C) uint8 pixels, without torch (the
// decoder the libFuzzer target fuzz_image_decode builds alone; ptft/data/image_io.h wraps it).
//
// Decoding goes through stb_image (libstb-dev): PNG, JPEG, BMP, GIF's first frame, TGA, PNM (not
// stb's PSD and PIC). Bytes that stb 2.27 mishandles are refused first (src/data/stb_guard.h).
// The width and height are read from the header and checked against ImageLimits before anything
// is decoded: a small file that declares a huge image (a decompression bomb, or a damaged header)
// is a UserError naming the file, its width x height and the limit, not gigabytes of allocation.
//
//   ImageInfo info = read_image_info(bytes, "cat.jpg");         // {width 640, height 480, channels 3}
//   DecodedImage img = decode_image_pixels(bytes, "cat.jpg");   // img.pixels: (480, 640, 3)
//   uint8_t red = img.pixels[(y * img.width + x) * img.channels + 0];
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ptft {

// The longest side decode_image accepts (a guard against decompression bombs and typos).
constexpr int64_t kMaxImageSide = 16384;
// The most pixels (width x height) decode_image accepts: 100 megapixels, 300 MB as RGB.
constexpr int64_t kMaxImagePixels = 100'000'000;

struct ImageLimits {
  int64_t max_side = kMaxImageSide;      // the longest width or height accepted
  int64_t max_pixels = kMaxImagePixels;  // the most width x height accepted
};

// What an image file's header declares.
struct ImageInfo {
  int64_t width = 0;
  int64_t height = 0;
  int64_t channels = 0;  // in the file: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
};

// Pixels owned by the decoder's allocator; the deleter frees them.
using PixelBuffer = std::unique_ptr<uint8_t[], void (*)(void*)>;

struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;                // 1 (grey; a grey + alpha file loses its alpha) or 3 (RGB)
  PixelBuffer pixels{nullptr, nullptr};  // (H, W, C) row-major
};

// Whether `path` has the extension of a format decode_image reads (.png .jpg .jpeg .bmp .gif
// .tga .pgm .ppm .pnm, any case): how folders of images are listed.
bool is_image_file(const std::string& path);

// The header of the image in `bytes`; `name` (a path) is what error messages call it.
// UserError when the bytes are empty or not an image stb reads.
ImageInfo read_image_info(const std::string& bytes, const std::string& name);

// UserError naming `name`, its width x height and the limit when `info` exceeds `limits`.
void check_image_size(const ImageInfo& info, const std::string& name, const ImageLimits& limits);

// The pixels of the image in `bytes`: read_image_info, check_image_size, then decode.
// UserError when the image is not readable, too large or damaged.
DecodedImage decode_image_pixels(const std::string& bytes, const std::string& name, const ImageLimits& limits = {});

}  // namespace ptft
