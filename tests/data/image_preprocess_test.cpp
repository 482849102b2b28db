// Tests for ptft/data/image_preprocess.h: channel conversion and fit-to-size against hand
// values, the whole eval transform of an image file, and the JSON form a checkpoint stores.
#include "ptft/data/image_preprocess.h"

#include <gtest/gtest.h>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/data/image_io.h"

namespace ptft {
namespace {

TEST(ImagePreprocess, ConvertChannels) {
  auto rgb = torch::tensor({100, 200, 50}, torch::kUInt8).view({3, 1, 1});
  EXPECT_EQ(convert_channels(rgb, 1).item<int>(), 153);  // 29.9 + 117.4 + 5.7
  auto grey = torch::tensor({7, 9}, torch::kUInt8).view({1, 1, 2});
  auto three = convert_channels(grey, 3);
  ASSERT_EQ(three.sizes(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_TRUE(torch::equal(three[2], grey[0]));
  EXPECT_TRUE(convert_channels(rgb, 3).is_same(rgb));
  auto f = torch::tensor({1.0f, 0.0f, 0.0f}).view({1, 3, 1, 1});
  EXPECT_NEAR(convert_channels(f, 1).item<float>(), 0.299f, 1e-6);
}

TEST(ImagePreprocess, FitCropsTheCentreOfTheLongerSide) {
  auto x = torch::arange(4 * 8, torch::kLong).to(torch::kUInt8).view({1, 1, 4, 8});
  // Shorter side already 4: no resize, columns 2..5 kept.
  EXPECT_TRUE(torch::equal(fit_images(x, 4), x.slice(3, 2, 6)));
  // Portrait 8 x 4: rows 2..5.
  auto p = x.view({1, 1, 8, 4});
  EXPECT_TRUE(torch::equal(fit_images(p, 4), p.slice(2, 2, 6)));
  // Square: a plain resize, rounded.
  auto sq = (torch::arange(64, torch::kLong) * 3).to(torch::kUInt8).view({1, 1, 8, 8});
  auto want = resize_bilinear(sq.to(torch::kFloat), 4, 4).round().to(torch::kUInt8);
  EXPECT_TRUE(torch::equal(fit_images(sq, 4), want));
  EXPECT_EQ(fit_images(sq, 6).sizes(), (std::vector<int64_t>{1, 1, 6, 6}));
}

TEST(ImagePreprocess, EvalTransformOfAFile) {
  test::TempDir tmp("pre");
  auto img = torch::full({10, 20, 3}, 255, torch::kUInt8);
  img.select(2, 1).fill_(0);  // magenta
  write_png(tmp.path + "/m.png", img);
  ImagePreprocess pre{5, 3, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}};
  auto x = load_image_for_model(tmp.path + "/m.png", pre);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{3, 5, 5}));
  EXPECT_TRUE(torch::allclose(x[0], torch::ones({5, 5})));   // (1 - 0.5) / 0.5
  EXPECT_TRUE(torch::allclose(x[1], -torch::ones({5, 5})));  // (0 - 0.5) / 0.5
  EXPECT_TRUE(torch::equal(x, load_image_for_model(tmp.path + "/m.png", pre)));  // deterministic
  ImagePreprocess grey{4, 1, {0.0}, {1.0}};
  auto g = load_image_for_model(tmp.path + "/m.png", grey);
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{1, 4, 4}));
  EXPECT_NEAR(g[0][0][0].item<float>(), std::round(0.299 * 255 + 0.114 * 255) / 255.0, 1e-6);
}

TEST(ImagePreprocess, JsonRoundTripAndErrors) {
  ImagePreprocess pre{32, 3, {0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}};
  nlohmann::json j = pre;
  auto back = j.get<ImagePreprocess>();
  EXPECT_EQ(back.size, 32);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.mean, pre.mean);
  EXPECT_EQ(back.std, pre.std);
  auto bad = j;
  bad["mean"] = {0.5};
  EXPECT_THROW(bad.get<ImagePreprocess>(), UserError);
  bad = j;
  bad.erase("size");
  try {
    bad.get<ImagePreprocess>();
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'size'"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace ptft
