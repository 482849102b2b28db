// fuzz_image_decode — libFuzzer target for ptft::decode_image_pixels (image files of a dataset:
// downloaded, untrusted bytes), through stb_image: PNG, JPEG, BMP and the other formats it reads.
//
// Input: the bytes of one image file. The header must give an ImageInfo or a ptft::UserError;
// decoding (under limits small enough to keep each input fast: 1024 per side, 1/4 megapixel)
// must give pixels of the header's size or a UserError. Every other exception, every sanitizer
// report (an out-of-bounds read of the pixels included: every byte is read), a hang (-timeout)
// and runaway memory (-rss_limit_mb) are crashes.
//
//   build-fuzz/fuzz_image_decode -max_total_time=600 /tmp/img-corpus tests/data/fuzz_corpus_image_decode
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "ptft/core/error.h"
#include "ptft/data/image_decode.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_image_decode: %s: %s\n", what, detail.c_str());
  std::abort();
}

constexpr ptft::ImageLimits kFuzzLimits{1024, 1 << 18};

void check_pixels(const ptft::ImageInfo& info, const ptft::DecodedImage& img) {
  if (img.width != info.width || img.height != info.height)
    fail("decoded size differs from the header", std::to_string(img.width) + "x" + std::to_string(img.height));
  if (img.channels != (info.channels <= 2 ? 1 : 3)) fail("channels", std::to_string(img.channels));
  const int64_t n = img.height * img.width * img.channels;
  volatile unsigned sum = 0;  // volatile: the loop is not optimised away
  for (int64_t i = 0; i < n; ++i) sum = sum + img.pixels[i];  // ASan: the whole (H, W, C) buffer exists
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    ptft::ImageInfo info;
    try {
      info = ptft::read_image_info(bytes, "fuzz.img");
      ptft::check_image_size(info, "fuzz.img", ptft::ImageLimits{});  // the defaults: header only
      check_pixels(info, ptft::decode_image_pixels(bytes, "fuzz.img", kFuzzLimits));
    } catch (const ptft::UserError&) {
      return 0;  // rejected: expected for most inputs
    }
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
