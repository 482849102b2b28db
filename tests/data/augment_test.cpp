// Tests for ptft/data/augment.h: each op against its defining property or hand-computed
// numbers, the per-example draws (ranges, determinism, independence from the batch), and the
// whole transform.
#include "ptft/data/augment.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ptft/data/image_io.h"
#include "ptft/data/image_preprocess.h"

namespace ptft {
namespace {

torch::Tensor batch(int64_t B = 4, int64_t C = 3, int64_t H = 8, int64_t W = 10) {
  auto gen = at::detail::createCPUGenerator(7);
  return torch::rand({B, C, H, W}, gen, torch::kFloat);
}

std::vector<uint64_t> keys(int64_t n, uint64_t first = 100) {
  std::vector<uint64_t> k;
  for (int64_t i = 0; i < n; ++i) k.push_back(first + static_cast<uint64_t>(i) * 7919);
  return k;
}

TEST(Augment, HflipTwiceIsIdentityAndOnlyFlipsChosenExamples) {
  auto x = batch();
  auto flip = torch::tensor({true, false, true, false});
  auto once = hflip(x, flip);
  EXPECT_TRUE(torch::equal(hflip(once, flip), x));
  EXPECT_TRUE(torch::equal(once[1], x[1]));
  EXPECT_TRUE(torch::equal(once[0].select(2, 0), x[0].select(2, 9)));  // first column <- last
}

TEST(Augment, PadCropKeepsSizeAndShifts) {
  auto x = batch(3);
  const int64_t p = 2;
  auto off = torch::tensor(std::vector<int64_t>{p, p, 0, 0, 4, 1}).view({3, 2});
  auto y = pad_crop(x, p, off);
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(y[0], x[0]));  // offset (pad, pad): the image itself
  // Offset (0, 0): the image moves down-right by p; the uncovered border is 0.
  EXPECT_TRUE(torch::equal(y[1].slice(1, p).slice(2, p), x[1].slice(1, 0, 8 - p).slice(2, 0, 10 - p)));
  EXPECT_EQ(y[1].slice(1, 0, p).abs().sum().item<float>(), 0.0f);
  // Offset (4, 1): up by 2, right by 1.
  EXPECT_TRUE(torch::equal(y[2].slice(1, 0, 8 - 2).slice(2, 1), x[2].slice(1, 2).slice(2, 0, 10 - 1)));
  EXPECT_TRUE(pad_crop(x, 0, off).is_same(x));
  // The CPU float fast path (row copies) agrees with the generic gather (double goes there).
  EXPECT_TRUE(torch::equal(pad_crop(x.to(torch::kDouble), p, off), y.to(torch::kDouble)));
}

TEST(Augment, ResizedCropOfTheWholeImageIsIdentityAndOfAHalfIsItsResize) {
  auto x = batch(2);
  auto whole = torch::tensor({0.0f, 0.0f, 8.0f, 10.0f}).repeat({2, 1});
  EXPECT_TRUE(torch::allclose(resized_crop(x, whole), x, 1e-5, 1e-5));
  // The left half, stretched back to full width = bilinear resize of that half (inner columns;
  // at the crop's edge grid_sample also sees the pixel beyond it).
  auto half = torch::tensor({0.0f, 0.0f, 8.0f, 5.0f}).repeat({2, 1});
  auto got = resized_crop(x, half);
  auto want = resize_bilinear(x.slice(3, 0, 5).contiguous(), 8, 10);
  EXPECT_TRUE(torch::allclose(got.slice(3, 1, 9), want.slice(3, 1, 9), 1e-5, 1e-5));
}

TEST(Augment, ColorJitterHandValues) {
  auto x = batch(2);
  EXPECT_TRUE(torch::allclose(color_jitter(x, torch::ones({2, 3})), x));
  // Brightness 0.5 halves; saturation 0 gives a grey image; contrast 0 gives its mean grey.
  auto half = color_jitter(x, torch::tensor({0.5f, 1.0f, 1.0f}).repeat({2, 1}));
  EXPECT_TRUE(torch::allclose(half, x * 0.5, 1e-6, 1e-6));
  auto grey = color_jitter(x, torch::tensor({1.0f, 1.0f, 0.0f}).repeat({2, 1}));
  EXPECT_TRUE(torch::allclose(grey, convert_channels(x, 1).expand_as(x), 1e-6, 1e-6));
  auto flat = color_jitter(x, torch::tensor({1.0f, 0.0f, 1.0f}).repeat({2, 1}));
  auto mean = convert_channels(x, 1).mean({1, 2, 3});  // (B)
  EXPECT_TRUE(torch::allclose(flat, mean.view({2, 1, 1, 1}).expand_as(x), 1e-6, 1e-6));
  auto bright = color_jitter(x, torch::tensor({3.0f, 1.0f, 1.0f}).repeat({2, 1}));
  EXPECT_LE(bright.max().item<float>(), 1.0f);  // clamped
}

TEST(Augment, EraseZeroesExactlyTheRectangle) {
  auto x = batch(2) + 1.0f;  // no zeros of its own
  auto boxes = torch::tensor({1, 2, 3, 4, 0, 0, 0, 0}, torch::kLong).view({2, 4});
  auto y = erase(x, boxes);
  EXPECT_EQ((y[0] == 0).sum().item<int64_t>(), 3 * 3 * 4);
  EXPECT_EQ(y[0].slice(1, 1, 4).slice(2, 2, 6).abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(y[1], x[1]));  // height 0: untouched
  y[0].slice(1, 1, 4).slice(2, 2, 6).copy_(x[0].slice(1, 1, 4).slice(2, 2, 6));
  EXPECT_TRUE(torch::equal(y, x));  // nothing else changed
}

TEST(Augment, NormalizeHandValues) {
  auto x = torch::tensor({0.25f, 1.0f, 0.0f}).view({1, 3, 1, 1});
  auto y = normalize(x, {0.5, 0.5, 0.2}, {0.25, 0.5, 0.1});
  EXPECT_TRUE(torch::allclose(y.flatten(), torch::tensor({-1.0f, 1.0f, -2.0f}), 1e-6, 1e-6)) << y;
}

TEST(Augment, DrawsAreInRangeAndAFunctionOfTheKey) {
  AugmentConfig cfg;
  cfg.hflip = 0.5;
  cfg.pad_crop = 3;
  cfg.resized_crop = {0.3, 0.8};
  cfg.jitter = 0.4;
  cfg.erasing = 0.5;
  const auto k = keys(400);
  const auto d = draw_augment(cfg, k, 32, 40);
  EXPECT_GE(d.pad_offsets.min().item<int64_t>(), 0);
  EXPECT_LE(d.pad_offsets.max().item<int64_t>(), 6);
  EXPECT_GT(d.pad_offsets.max().item<int64_t>(), 4);  // the range is used
  const double flips = d.flip.to(torch::kFloat).mean().item<double>();
  EXPECT_GT(flips, 0.4);
  EXPECT_LT(flips, 0.6);
  EXPECT_GE(d.jitter.min().item<float>(), 0.6f);
  EXPECT_LE(d.jitter.max().item<float>(), 1.4f);
  auto area = d.crop_boxes.select(1, 2) * d.crop_boxes.select(1, 3) / (32.0 * 40.0);
  EXPECT_GE(area.min().item<float>(), 0.29f);  // rounding of the box sides
  EXPECT_LE(area.max().item<float>(), 0.81f);
  auto bottom = d.crop_boxes.select(1, 0) + d.crop_boxes.select(1, 2);
  auto right = d.crop_boxes.select(1, 1) + d.crop_boxes.select(1, 3);
  EXPECT_LE(bottom.max().item<float>(), 32.0f);
  EXPECT_LE(right.max().item<float>(), 40.0f);
  const auto erased = (d.erase_boxes.select(1, 2) > 0).sum().item<int64_t>();
  EXPECT_GT(erased, 150);
  EXPECT_LT(erased, 250);
  // The same keys draw the same; a draw does not depend on the other examples of the batch.
  const auto again = draw_augment(cfg, {k[5], k[6]}, 32, 40);
  EXPECT_TRUE(torch::equal(again.crop_boxes, d.crop_boxes.slice(0, 5, 7)));
  EXPECT_TRUE(torch::equal(again.pad_offsets, d.pad_offsets.slice(0, 5, 7)));
  EXPECT_TRUE(torch::equal(again.erase_boxes, d.erase_boxes.slice(0, 5, 7)));
  EXPECT_FALSE(torch::equal(d.crop_boxes[0], d.crop_boxes[1]));
}

TEST(Augment, WholeTransform) {
  auto x = batch(4, 3, 16, 16);
  const std::vector<double> mean = {0.5, 0.4, 0.3}, std = {0.2, 0.25, 0.3};
  AugmentConfig off;
  EXPECT_FALSE(off.active());
  EXPECT_TRUE(torch::equal(augment_batch(x, off, keys(4), mean, std), normalize(x, mean, std)));
  AugmentConfig on;
  on.hflip = 0.5, on.pad_crop = 2, on.resized_crop = {0.5, 1.0}, on.jitter = 0.3, on.erasing = 0.5;
  ASSERT_TRUE(on.active());
  auto a = augment_batch(x, on, keys(4), mean, std);
  EXPECT_EQ(a.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(a, augment_batch(x, on, keys(4), mean, std)));  // deterministic
  EXPECT_FALSE(torch::allclose(a, normalize(x, mean, std)));
  // Example 2 alone, with its own key, is augmented the same as inside the batch.
  auto one = augment_batch(x.slice(0, 2, 3), on, {keys(4)[2]}, mean, std);
  EXPECT_TRUE(torch::allclose(one, a.slice(0, 2, 3), 1e-6, 1e-6));
}

}  // namespace
}  // namespace ptft
