// Tests for ptft/data/detection_augment.h against hand-computed cases: load_resize scales image
// and boxes, letterbox_square centres, hflip mirrors boxes, the affine with scale 1 and no
// translation is the identity and an integer translation shifts pixels exactly, boxes are
// clipped and filtered by min_box_area / 2 px, a mosaic places its parts and boxes where
// Ultralytics' load_mosaic does, the affine's pixels against torch's grid_sample (the loop it
// replaced), OpenCV's HSV of known colours and the jitter against the formula in torch's ops, the
// HSV round trip, and the whole pipeline's determinism.
#include "ptft/data/detection_augment.h"
#include "ptft/data/hsv_kernel.h"

#include <gtest/gtest.h>

namespace ptft {
namespace {

using torch::indexing::Slice;

torch::Tensor boxes_of(std::vector<std::array<float, 4>> b) {
  auto t = torch::empty({static_cast<int64_t>(b.size()), 4}, torch::kFloat);
  for (std::size_t i = 0; i < b.size(); ++i)
    for (int k = 0; k < 4; ++k) t[static_cast<int64_t>(i)][k] = b[i][static_cast<std::size_t>(k)];
  return t;
}

DetectionImage solid(int64_t h, int64_t w, int value, std::vector<std::array<float, 4>> boxes, int64_t cls) {
  const auto n = static_cast<int64_t>(boxes.size());
  return {torch::full({3, h, w}, value, torch::kUInt8), boxes_of(std::move(boxes)), torch::full({n}, cls, torch::kLong)};
}

DetectionImage random_image(int64_t h, int64_t w, std::vector<std::array<float, 4>> boxes, uint64_t seed) {
  torch::manual_seed(seed);
  DetectionImage im = solid(h, w, 0, std::move(boxes), 1);
  im.image = torch::randint(0, 256, {3, h, w}, torch::kLong).to(torch::kUInt8);
  return im;
}

void expect_boxes(const torch::Tensor& got, std::vector<std::array<float, 4>> want, double tol = 1e-4) {
  ASSERT_EQ(got.size(0), static_cast<int64_t>(want.size())) << got;
  EXPECT_TRUE(torch::allclose(got, boxes_of(std::move(want)), 0, tol)) << got;
}

TEST(DetectionAugment, LoadResizeScalesTheLongSideAndTheBoxes) {
  const auto hwc = torch::full({20, 40, 3}, 7, torch::kUInt8);  // H 20, W 40
  const auto im = load_resize(hwc, boxes_of({{4, 2, 20, 10}}), torch::tensor({3}, torch::kLong), 32);
  EXPECT_EQ(im.image.sizes(), (std::vector<int64_t>{3, 16, 32}));
  EXPECT_TRUE(im.image.eq(7).all().item<bool>());
  expect_boxes(im.boxes, {{3.2f, 1.6f, 16, 8}});
  EXPECT_EQ(im.labels.item<int64_t>(), 3);
  // Grey input becomes 3 channels; upscaling works too.
  const auto grey = load_resize(torch::full({8, 4, 1}, 9, torch::kUInt8), boxes_of({{0, 0, 4, 8}}),
                                torch::tensor({0}, torch::kLong), 32);
  EXPECT_EQ(grey.image.sizes(), (std::vector<int64_t>{3, 32, 16}));
  expect_boxes(grey.boxes, {{0, 0, 16, 32}});
}

TEST(DetectionAugment, LetterboxSquareCentresImageAndBoxes) {
  const auto sq = letterbox_square(solid(16, 32, 50, {{1, 2, 3, 4}}, 0), 32);
  EXPECT_EQ(sq.image.sizes(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_TRUE(sq.image.index({Slice(), Slice(0, 8)}).eq(114).all().item<bool>());
  EXPECT_TRUE(sq.image.index({Slice(), Slice(8, 24)}).eq(50).all().item<bool>());
  EXPECT_TRUE(sq.image.index({Slice(), Slice(24, 32)}).eq(114).all().item<bool>());
  expect_boxes(sq.boxes, {{1, 10, 3, 12}});
}

TEST(DetectionAugment, HflipMirrorsImageAndBoxes) {
  const auto im = random_image(6, 10, {{1, 2, 4, 5}, {0, 0, 10, 6}}, 1);
  const auto f = hflip(im);
  expect_boxes(f.boxes, {{6, 2, 9, 5}, {0, 0, 10, 6}});
  EXPECT_TRUE(f.image.select(2, 9).equal(im.image.select(2, 0)));
  const auto back = hflip(f);
  EXPECT_TRUE(back.image.equal(im.image));
  expect_boxes(back.boxes, {{1, 2, 4, 5}, {0, 0, 10, 6}});
}

TEST(DetectionAugment, AffineWithScaleOneAndCentredIsTheIdentity) {
  const auto im = random_image(32, 32, {{3, 4, 20, 30}}, 2);
  const auto out = random_affine(im, 32, AffineParams{1.0, 16.0, 16.0}, 0.25);
  EXPECT_TRUE(out.image.equal(im.image));
  expect_boxes(out.boxes, {{3, 4, 20, 30}});
  EXPECT_TRUE(out.labels.equal(im.labels));
  // draw_affine with scale 0 and translate 0 draws exactly that.
  DetectionDataConfig cfg;
  cfg.scale = 0;
  cfg.translate = 0;
  ExampleRng rng(5);
  const AffineParams p = draw_affine(rng, cfg, 32);
  EXPECT_EQ(p.scale, 1.0);
  EXPECT_EQ(p.tx, 16.0);
  EXPECT_EQ(p.ty, 16.0);
}

TEST(DetectionAugment, AffineIntegerTranslationShiftsPixelsAndFillsGrey) {
  const auto im = random_image(32, 32, {}, 3);
  const auto out = random_affine(im, 32, AffineParams{1.0, 21.0, 13.0}, 0.25);  // +5 right, -3 up
  EXPECT_TRUE(out.image.index({Slice(), Slice(0, 29), Slice(5, 32)}).equal(im.image.index({Slice(), Slice(3, 32), Slice(0, 27)})));
  EXPECT_TRUE(out.image.index({Slice(), Slice(), Slice(0, 5)}).eq(114).all().item<bool>());
  EXPECT_TRUE(out.image.index({Slice(), Slice(29, 32)}).eq(114).all().item<bool>());
}

TEST(DetectionAugment, AffineScalesBoxesAboutTheCentreAndMapsTheCanvasToTheOutput) {
  // Scale 2 about (16, 16): x -> 2 (x - 16) + 16.
  const auto out = random_affine(solid(32, 32, 9, {{12, 12, 20, 20}}, 0), 32, AffineParams{2.0, 16.0, 16.0}, 0.25);
  expect_boxes(out.boxes, {{8, 8, 24, 24}});
  // A 64-px canvas to 32 at scale 1 (the mosaic's border -S/2): its centre window is kept.
  auto canvas = solid(64, 64, 114, {{20, 20, 30, 40}}, 0);
  canvas.image.index_put_({Slice(), Slice(16, 48), Slice(16, 48)}, 60);
  const auto crop = random_affine(canvas, 32, AffineParams{1.0, 16.0, 16.0}, 0.25);
  EXPECT_TRUE(crop.image.eq(60).all().item<bool>());
  expect_boxes(crop.boxes, {{4, 4, 14, 24}});
}

TEST(DetectionAugment, AffineClipsAndDropsBoxesByAreaAndSide) {
  // Shift left by 6: [0, 8] -> [-6, 2], clipped to [0, 2]: 2 px wide, 1/4 of its area kept.
  const auto im = solid(32, 32, 9, {{0, 0, 8, 8}, {10, 10, 20, 20}}, 2);
  expect_boxes(random_affine(im, 32, AffineParams{1.0, 10.0, 16.0}, 0.25).boxes, {{0, 0, 2, 8}, {4, 10, 14, 20}});
  // Shift left by 7: 1 px left -> dropped.
  expect_boxes(random_affine(im, 32, AffineParams{1.0, 9.0, 16.0}, 0.0).boxes, {{3, 10, 13, 20}});
  // Shift left by 5: 3/8 of the area kept; dropped when min_box_area asks for half.
  expect_boxes(random_affine(im, 32, AffineParams{1.0, 11.0, 16.0}, 0.25).boxes, {{0, 0, 3, 8}, {5, 10, 15, 20}});
  expect_boxes(random_affine(im, 32, AffineParams{1.0, 11.0, 16.0}, 0.5).boxes, {{5, 10, 15, 20}});
}

TEST(DetectionAugment, MosaicPlacesPartsAndBoxesAsUltralytics) {
  // S = 32, centre (40, 24), four 32 x 32 images of grey 10, 20, 30, 40.
  const auto a = solid(32, 32, 10, {{0, 8, 10, 20}}, 0);   // top left: offset (8, -8)
  const auto b = solid(32, 32, 20, {{20, 0, 30, 4}}, 1);   // top right: offset (40, -8) -> above the canvas
  const auto c = solid(32, 32, 30, {{0, 0, 4, 4}}, 2);     // bottom left: offset (8, 24)
  const auto d = solid(32, 32, 40, {{0, 0, 32, 32}}, 3);   // bottom right: offset (40, 24), clipped at 64
  const auto m = mosaic4({&a, &b, &c, &d}, 32, 40, 24);
  EXPECT_EQ(m.image.sizes(), (std::vector<int64_t>{3, 64, 64}));
  auto region = [&](int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    return m.image.index({Slice(), Slice(y0, y1), Slice(x0, x1)});
  };
  EXPECT_TRUE(region(0, 24, 8, 40).eq(10).all().item<bool>());
  EXPECT_TRUE(region(0, 24, 40, 64).eq(20).all().item<bool>());
  EXPECT_TRUE(region(24, 56, 8, 40).eq(30).all().item<bool>());
  EXPECT_TRUE(region(24, 56, 40, 64).eq(40).all().item<bool>());
  EXPECT_TRUE(region(0, 64, 0, 8).eq(114).all().item<bool>());
  EXPECT_TRUE(region(56, 64, 0, 64).eq(114).all().item<bool>());
  expect_boxes(m.boxes, {{8, 0, 18, 12}, {8, 24, 12, 28}, {40, 24, 64, 56}});
  EXPECT_TRUE(m.labels.equal(torch::tensor({0, 2, 3}, torch::kLong)));
}

TEST(DetectionAugment, MosaicCentreIsDrawnInTheMiddleHalf) {
  for (uint64_t key = 0; key < 200; ++key) {
    ExampleRng rng(key);
    const auto c = draw_mosaic_centre(rng, 32);
    for (const int64_t v : c) {
      EXPECT_GE(v, 16);
      EXPECT_LT(v, 48);
    }
  }
}

TEST(DetectionAugment, AffinePixelsAreTorchsGridSample) {
  // The warp against torch's grid_sample (bilinear, zero padding on image - 114, align_corners
  // false) on a random image, for scales up and down and fractional shifts: the same bytes but
  // for rare round-half cases (at most 1 level, under 1 % of the pixels).
  const auto im = random_image(40, 50, {{5, 5, 30, 30}}, 11);
  for (const AffineParams p : {AffineParams{1.37, 17.3, 21.9}, AffineParams{0.61, 9.5, 30.25}, AffineParams{1.0, 16.5, 15.75}}) {
    const int64_t S = 32;
    const auto j = torch::arange(S, torch::kDouble) + 0.5;
    const auto gx = ((j - p.tx) / p.scale + 25.0) * (2.0 / 50) - 1, gy = ((j - p.ty) / p.scale + 20.0) * (2.0 / 40) - 1;
    const auto grid = torch::stack({gx.view({1, S}).expand({S, S}), gy.view({S, 1}).expand({S, S})}, -1)
                          .unsqueeze(0)
                          .to(torch::kFloat);
    namespace F = torch::nn::functional;
    const auto warped = F::grid_sample(im.image.unsqueeze(0).to(torch::kFloat) - 114.0, grid,
                                       F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false))[0];
    const auto want = (warped + 114.0).round_().clamp_(0, 255);
    const auto got = random_affine(im, S, p, 0.25).image.to(torch::kFloat);
    EXPECT_LE((got - want).abs().max().item<double>(), 1.0) << "scale " << p.scale;
    EXPECT_GE(got.eq(want).to(torch::kDouble).mean().item<double>(), 0.99) << "scale " << p.scale;
  }
}

TEST(DetectionAugment, AffineWithAScaleNearZeroIsAllGrey) {
  // Every output pixel samples far outside the input (coordinates ~1e30 or infinite): grey, no
  // undefined float-to-integer conversion (UBSan would report one).
  const auto im = random_image(20, 20, {{2, 2, 18, 18}}, 12);
  const auto out = random_affine(im, 16, AffineParams{1e-30, 7.9, 8.1}, 0.25);
  EXPECT_TRUE(out.image.eq(114).all().item<bool>());
  EXPECT_EQ(out.boxes.size(0), 0);  // the box shrank to nothing
}

TEST(DetectionAugment, HsvJitterIsTheFormulaInTorchOps) {
  // The per-pixel loop against OpenCV's HSV written in torch's ops (the form it replaced):
  // hue shifted mod 180, saturation and value scaled and clipped, back to RGB, rounded.
  const auto img = random_image(12, 9, {}, 5).image;
  const std::array<double, 3> r = {0.21, -0.37, 0.3};
  const auto rgb = img.to(torch::kFloat);
  const auto red = rgb[0], green = rgb[1], blue = rgb[2];
  const auto v = std::get<0>(rgb.max(0)), d = v - std::get<0>(rgb.min(0));
  const auto safe_d = torch::where(d > 0, d, torch::ones_like(d));
  const auto s = torch::where(v > 0, d / torch::where(v > 0, v, torch::ones_like(v)) * 255.0, torch::zeros_like(v));
  auto hue = torch::where(v == red, 60.0 * (green - blue) / safe_d,
                          torch::where(v == green, 120.0 + 60.0 * (blue - red) / safe_d, 240.0 + 60.0 * (red - green) / safe_d));
  hue = torch::where(d > 0, hue, torch::zeros_like(hue));
  hue = torch::where(hue < 0, hue + 360.0, hue) / 2.0;
  const auto h2 = torch::remainder(hue + r[0] * 180.0, 180.0), s2 = (s * (1 + r[1])).clamp(0, 255) / 255.0,
             v2 = (v * (1 + r[2])).clamp(0, 255);
  auto channel = [&](double n) {
    const auto k = torch::remainder(h2 / 30.0 + n, 6.0);
    return v2 - v2 * s2 * torch::clamp(torch::min(k, 4.0 - k), 0.0, 1.0);
  };
  const auto want = torch::stack({channel(5), channel(3), channel(1)}).round_().clamp_(0, 255);
  const auto got = hsv_jitter(img, r).to(torch::kFloat);
  EXPECT_LE((got - want).abs().max().item<double>(), 1.0);
  EXPECT_GE(got.eq(want).to(torch::kDouble).mean().item<double>(), 0.99);
}

TEST(DetectionAugment, HsvJitterPlanesAreThePixelFormulaExactly) {
  // The vectorised loop (the CPU's clone) gives the levels of the scalar pixel function, bit for
  // bit: 70,000 random pixels (not a whole number of 64-pixel blocks), greys and primaries, for
  // hue shifts either way and gains that saturate.
  torch::manual_seed(8);
  const int64_t n = 70001;
  auto planes = torch::randint(0, 256, {3, n}, torch::kUInt8);
  const uint8_t edge[][3] = {{0, 0, 0}, {255, 255, 255}, {128, 128, 128}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}};
  for (int64_t i = 0; i < 7; ++i)
    for (int64_t c = 0; c < 3; ++c) planes[c][i] = edge[i][c];
  const uint8_t* in = planes.data_ptr<uint8_t>();
  for (const auto& [shift, sg, vg] : {std::array<float, 3>{27.f, 0.6f, 1.4f}, {-40.5f, 1.9f, 0.3f}, {179.f, 0.f, 2.f}}) {
    std::vector<uint8_t> out(static_cast<size_t>(3 * n));
    hsv_jitter_planes(in, out.data(), n, shift, sg, vg);
    int64_t differ = 0;
    for (int64_t i = 0; i < n; ++i) {
      const auto want = hsv_jitter_pixel(in[i], in[n + i], in[2 * n + i], shift, sg, vg);
      for (int64_t c = 0; c < 3; ++c) differ += out[static_cast<size_t>(c * n + i)] != want[static_cast<size_t>(c)];
    }
    EXPECT_EQ(differ, 0) << "shift " << shift << " gains " << sg << ", " << vg;
  }
}

TEST(DetectionAugment, HsvOfKnownColoursFollowsOpenCv) {
  // (3, 1, 5): red, green, blue, a dark red, grey.
  const auto rgb = torch::tensor({255, 0, 0, 128, 100, 0, 255, 0, 64, 100, 0, 0, 255, 64, 100}, torch::kFloat).view({3, 1, 5});
  const auto hsv = rgb_to_hsv(rgb);
  const auto want = torch::tensor({0., 60., 120., 0., 0., 255., 255., 255., 127.5, 0., 255., 255., 255., 128., 100.}, torch::kFloat)
                        .view({3, 1, 5});
  EXPECT_TRUE(torch::allclose(hsv, want, 0, 1e-3)) << hsv;
  EXPECT_TRUE(torch::allclose(hsv_to_rgb(hsv), rgb, 0, 1e-3));
}

TEST(DetectionAugment, HsvRoundTripAndZeroGainsAreTheIdentity) {
  const auto img = random_image(16, 16, {}, 4).image;
  const auto back = hsv_to_rgb(rgb_to_hsv(img.to(torch::kFloat)));
  EXPECT_LE((back - img.to(torch::kFloat)).abs().max().item<double>(), 1.0);
  EXPECT_TRUE(hsv_jitter(img, {0, 0, 0}).equal(img));
  // A tiny hue shift changes grey levels by at most 1.
  const auto nudged = hsv_jitter(img, {1e-4, 0, 0}).to(torch::kFloat);
  EXPECT_LE((nudged - img.to(torch::kFloat)).abs().max().item<double>(), 1.0);
}

TEST(DetectionAugment, HsvGainsShiftHueAndScaleValue) {
  auto px = [](int r, int g, int b) {
    return torch::tensor({r, g, b}, torch::kLong).to(torch::kUInt8).view({3, 1, 1});
  };
  // Hue + 1/3 of the circle (60 in OpenCV's 0..180): red -> green, blue -> red.
  EXPECT_TRUE(hsv_jitter(px(255, 0, 0), {1.0 / 3, 0, 0}).equal(px(0, 255, 0)));
  EXPECT_TRUE(hsv_jitter(px(0, 0, 255), {1.0 / 3, 0, 0}).equal(px(255, 0, 0)));
  // Value x 0.5 halves every channel; saturation x 0 gives grey at the value.
  EXPECT_TRUE(hsv_jitter(px(200, 100, 50), {0, 0, -0.5}).equal(px(100, 50, 25)));
  EXPECT_TRUE(hsv_jitter(px(200, 100, 50), {0, -1, 0}).equal(px(200, 200, 200)));
  // The draws are uniform(-1, 1) x gain.
  DetectionDataConfig cfg;
  for (uint64_t key = 0; key < 50; ++key) {
    ExampleRng rng(key);
    const auto r = draw_hsv(rng, cfg);
    EXPECT_LE(std::abs(r[0]), cfg.hsv_h);
    EXPECT_LE(std::abs(r[1]), cfg.hsv_s);
    EXPECT_LE(std::abs(r[2]), cfg.hsv_v);
  }
}

TEST(DetectionAugment, TrainExampleIsAPureFunctionOfItsRng) {
  std::vector<DetectionImage> pool;
  for (int i = 0; i < 4; ++i) pool.push_back(random_image(32, 24, {{2, 2, 20, 30}}, 10 + static_cast<uint64_t>(i)));
  DetectionDataConfig cfg;
  ExampleRng r1(42), r2(42), r3(43);
  const auto a = train_example(pool, 1, true, cfg, 32, r1);
  const auto b = train_example(pool, 1, true, cfg, 32, r2);
  const auto c = train_example(pool, 1, true, cfg, 32, r3);
  EXPECT_EQ(a.image.sizes(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_TRUE(a.image.equal(b.image));
  EXPECT_TRUE(a.boxes.equal(b.boxes));
  EXPECT_FALSE(a.image.equal(c.image));
  // Mosaic closed = mosaic probability 0: the same draws, the same example.
  DetectionDataConfig off = cfg;
  off.mosaic = 0;
  ExampleRng r4(42), r5(42);
  const auto closed = train_example(pool, 1, false, cfg, 32, r4);
  const auto never = train_example(pool, 1, true, off, 32, r5);
  EXPECT_TRUE(closed.image.equal(never.image));
  EXPECT_TRUE(closed.boxes.equal(never.boxes));
  // Everything off: the letterboxed image itself.
  DetectionDataConfig none;
  none.mosaic = none.fliplr = none.hsv_h = none.hsv_s = none.hsv_v = none.scale = none.translate = 0;
  ExampleRng r6(7);
  const auto plain = train_example(pool, 2, true, none, 32, r6);
  const auto lb = letterbox_square(pool[2], 32);
  EXPECT_TRUE(plain.image.equal(lb.image));
  EXPECT_TRUE(torch::allclose(plain.boxes, lb.boxes));
}

}  // namespace
}  // namespace ptft
