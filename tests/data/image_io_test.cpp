// Tests for ptft/data/image_io.h (and the decoder under it, ptft/data/image_decode.h): PNG round
// trips (grey, RGB, RGBA), a hand-written BMP, the errors for missing / non-image / damaged files,
// the size limits checked before decoding, the bytes stb 2.27 mishandles (refused first), and
// bilinear resizing against hand-computed values (including the area pre-shrink that keeps thin
// lines).
#include "ptft/data/image_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"

namespace ptft {
namespace {

torch::Tensor pattern(int64_t h, int64_t w, int64_t c) {  // (H, W, C) uint8, all values distinct-ish
  return (torch::arange(h * w * c, torch::kLong) * 7 % 256).to(torch::kUInt8).view({h, w, c});
}

std::string error_of(const std::string& path) {
  try {
    decode_image(path);
  } catch (const UserError& e) {
    return e.message();
  }
  return "no error";
}

// A 24-bit BMP: 54-byte header, rows bottom-up in BGR, each padded to 4 bytes.
std::string bmp_bytes(const torch::Tensor& hwc_rgb) {
  const int h = static_cast<int>(hwc_rgb.size(0)), w = static_cast<int>(hwc_rgb.size(1));
  const int row = (3 * w + 3) / 4 * 4, size = 54 + row * h;
  std::string s(54, '\0');
  auto put32 = [&](int at, uint32_t v) {
    for (int k = 0; k < 4; ++k) s[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  };
  s[0] = 'B', s[1] = 'M';
  put32(2, size), put32(10, 54), put32(14, 40), put32(18, w), put32(22, h);
  s[26] = 1, s[28] = 24;
  put32(34, row * h);
  auto px = hwc_rgb.accessor<uint8_t, 3>();
  for (int y = h - 1; y >= 0; --y) {
    std::string r;
    for (int x = 0; x < w; ++x) r += {static_cast<char>(px[y][x][2]), static_cast<char>(px[y][x][1]), static_cast<char>(px[y][x][0])};
    r.resize(row, '\0');
    s += r;
  }
  return s;
}

TEST(ImageIo, PngRoundTripGreyAndRgb) {
  test::TempDir tmp("png");
  for (int64_t c : {1, 3}) {
    const auto img = pattern(5, 7, c);
    const std::string path = tmp.path + "/img" + std::to_string(c) + ".png";
    write_png(path, img);
    const auto back = decode_image(path);
    EXPECT_EQ(back.sizes(), img.sizes());
    EXPECT_TRUE(torch::equal(back, img)) << c << " channels";
  }
}

TEST(ImageIo, AlphaIsDropped) {
  const auto rgba = pattern(3, 4, 4);
  const auto back = decode_image_bytes(encode_png(rgba), "mem.png");
  ASSERT_EQ(back.sizes(), (std::vector<int64_t>{3, 4, 3}));
  EXPECT_TRUE(torch::equal(back, rgba.narrow(2, 0, 3)));
}

TEST(ImageIo, ReadsBmp) {
  test::TempDir tmp("bmp");
  const auto img = pattern(3, 5, 3);  // 15-byte rows: padded to 16
  fs::write_file_atomic(tmp.path + "/a.bmp", bmp_bytes(img));
  EXPECT_TRUE(torch::equal(decode_image(tmp.path + "/a.bmp"), img));
}

TEST(ImageIo, ErrorsNameTheFileAndTheProblem) {
  test::TempDir tmp("img_bad");
  const std::string d = tmp.path + "/";
  std::string e = error_of(d + "missing.png");
  EXPECT_NE(e.find(d + "missing.png"), std::string::npos) << e;
  EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
  fs::write_file_atomic(d + "notes.png", "these are not pixels\n");
  e = error_of(d + "notes.png");
  EXPECT_NE(e.find("is not an image"), std::string::npos) << e;
  EXPECT_NE(e.find(d + "notes.png"), std::string::npos) << e;
  fs::write_file_atomic(d + "empty.jpg", "");
  EXPECT_NE(error_of(d + "empty.jpg").find("empty"), std::string::npos);
  const std::string png = encode_png(pattern(32, 32, 3));
  fs::write_file_atomic(d + "cut.png", png.substr(0, png.size() / 2));  // header fine, data cut
  e = error_of(d + "cut.png");
  EXPECT_NE(e.find("damaged"), std::string::npos) << e;
  EXPECT_NE(e.find(d + "cut.png"), std::string::npos) << e;
}

// A PNG whose header declares w x h (stb reads no CRC): what a decompression bomb looks like.
std::string png_declaring(uint32_t w, uint32_t h) {
  std::string png = encode_png(pattern(2, 2, 3));
  for (int k = 0; k < 4; ++k) {
    png[16 + k] = static_cast<char>((w >> (24 - 8 * k)) & 0xFF);  // IHDR width, big-endian
    png[20 + k] = static_cast<char>((h >> (24 - 8 * k)) & 0xFF);  // IHDR height
  }
  return png;
}

std::string decode_error(const std::string& bytes, const ImageLimits& limits = {}) {
  try {
    decode_image_pixels(bytes, "big.png", limits);
  } catch (const UserError& e) {
    return e.message();
  }
  return "no error";
}

TEST(ImageIo, SizeLimitsAreCheckedBeforeDecoding) {
  EXPECT_EQ(decode_error(png_declaring(20000, 10)),
            "image 'big.png' is 20000x10 pixels, larger than the limit of 16384 per side");
  EXPECT_EQ(decode_error(png_declaring(12000, 9000)),
            "image 'big.png' is 12000x9000 pixels (108000000 pixels), more than the limit of 100000000 pixels");
  // Past stb's own limit (2^24 per side) its header read fails, and stb reports the last format it
  // tried: a damaged file, still refused before anything is allocated.
  EXPECT_EQ(decode_error(png_declaring(1u << 25, 1)), "'big.png' is not an image ptft can read (unknown image type)");
  EXPECT_EQ(decode_error(png_declaring(2, 2), ImageLimits{1, 100}),
            "image 'big.png' is 2x2 pixels, larger than the limit of 1 per side");
  EXPECT_EQ(decode_error(png_declaring(2, 2), ImageLimits{16, 3}),
            "image 'big.png' is 2x2 pixels (4 pixels), more than the limit of 3 pixels");
  const DecodedImage ok = decode_image_pixels(png_declaring(2, 2), "ok.png", ImageLimits{2, 4});
  EXPECT_EQ(ok.height * ok.width * ok.channels, 12);
  const ImageInfo info = read_image_info(png_declaring(20000, 10), "big.png");  // the header alone is fine
  EXPECT_EQ(info.width, 20000);
  EXPECT_EQ(info.channels, 3);
}

// Bytes that stb_image 2.27 mishandles (found by fuzz_image_decode) are refused before it sees
// them: under ASan each of these was a heap overflow, undefined behaviour or a 2 GiB allocation.
TEST(ImageIo, BytesStbMishandlesAreDamagedImages) {
  // JPEG: a Huffman table whose 16 code counts add up to 512 (at most 256 exist).
  const std::string jpeg = std::string("\xFF\xFF\xD8\xFF\xC4\x00\x13\x00", 8) + std::string(16, '\x20') + "xyz";
  EXPECT_EQ(decode_error(jpeg), "image 'big.png' is damaged (a JPEG Huffman table of 512 codes; at most 256 are "
                                "possible)");
  // PNM: a height past INT_MAX.
  EXPECT_EQ(decode_error("P5\n0\n00500000000005 \x01"),
            "image 'big.png' is damaged (a PNM header number larger than 2147483647)");
  // PNG: an image data chunk declaring 2 GiB in a small file.
  std::string png = encode_png(pattern(2, 2, 3));
  const std::size_t idat = png.find("IDAT") - 4;
  png.replace(idat, 4, std::string("\x7F\xFF\xFF\xFF", 4));
  EXPECT_EQ(decode_error(png), "image 'big.png' is damaged (a PNG data chunk of 2147483647 bytes in a file of " +
                                   std::to_string(png.size()) + ")");
}

// A baseline JPEG whose scan names Huffman table 0 that no DHT segment defines: stb decodes it
// with whatever its decoder state holds. That state is allocated zeroed (src/data/image_decode.cpp),
// so every code is symbol 0 and the 8x8 image comes out flat grey, not from garbage indices.
TEST(ImageIo, JpegScanWithUndefinedHuffmanTableDecodesFlat) {
  std::string jpeg = std::string("\xFF\xD8\xFF\xDB\x00\x43\x00", 7) + std::string(64, '\x01');  // SOI, DQT
  jpeg += std::string("\xFF\xC0\x00\x0B\x08\x00\x08\x00\x08\x01\x01\x11\x00", 13);           // SOF0 8x8 grey
  jpeg += std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);                      // SOS, tables 0/0
  jpeg += std::string("\x00\x00\x00\x00\xFF\xD9", 6);                                          // data, EOI
  const DecodedImage img = decode_image_pixels(jpeg, "nodht.jpg");
  ASSERT_EQ(img.height * img.width * img.channels, 64);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(img.pixels[i], 128) << i;
}

TEST(ImageIo, WritePngReplacesAtomically) {
  test::TempDir tmp("png_atomic");
  const std::string path = tmp.path + "/out.png";
  write_png(path, pattern(2, 2, 3));
  write_png(path, pattern(4, 4, 1));
  EXPECT_EQ(decode_image(path).sizes(), (std::vector<int64_t>{4, 4, 1}));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temporaries left
}

TEST(ImageIo, ResizeBilinearMatchesHandValues) {
  // 1-D [0, 1] -> 4 samples (align_corners = false): centres at -0.25, 0.25, 0.75, 1.25 (clamped).
  auto x = torch::tensor({0.0f, 1.0f}).view({1, 1, 1, 2}).expand({1, 1, 2, 2}).contiguous();
  auto y = resize_bilinear(x, 2, 4);
  EXPECT_TRUE(torch::allclose(y[0][0][0], torch::tensor({0.0f, 0.25f, 0.75f, 1.0f}), 1e-6, 1e-6)) << y;
  EXPECT_TRUE(resize_bilinear(x, 2, 2).is_same(x));  // already the size
  auto c = torch::full({2, 3, 9, 13}, 0.3f);
  EXPECT_TRUE(torch::allclose(resize_bilinear(c, 4, 5), torch::full({2, 3, 4, 5}, 0.3f)));
}

TEST(ImageIo, LargeShrinkKeepsThinLines) {
  // A 1-pixel vertical line in column 5 of 64: area-averaged 64 -> 16 gives 0.25 in column 1,
  // then bilinear 16 -> 8 samples between columns 0 and 1 for output 0: 0.125. Plain bilinear
  // 64 -> 8 would sample columns 3.5, 11.5, ... and lose the line.
  auto x = torch::zeros({1, 1, 64, 64});
  x.select(3, 5).fill_(1.0f);
  auto y = resize_bilinear(x, 8, 8);
  EXPECT_NEAR(y[0][0][3][0].item<float>(), 0.125f, 1e-6);
  EXPECT_NEAR(y[0][0][3].sum().item<float>(), 0.125f, 1e-6);
}

}  // namespace
}  // namespace ptft
