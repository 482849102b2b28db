// Drawing detections (ptft/infer/draw_boxes.h): outline pixels in the class colour, the inside
// untouched, text in the label, labels kept inside the image, boxes on or past the border, the
// missing-font error.
#include "ptft/infer/draw_boxes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../common/user_error.h"

namespace ptft {
namespace {

constexpr int64_t kH = 120, kW = 160;
constexpr uint8_t kGrey = 50;

torch::Tensor grey_image(int64_t c = 3) { return torch::full({kH, kW, c}, kGrey, torch::kUInt8); }

Rgb pixel(const torch::Tensor& img, int64_t y, int64_t x) {
  auto p = img[y][x];
  return {p[0].item<uint8_t>(), p[1].item<uint8_t>(), p[2].item<uint8_t>()};
}

const Rgb kUntouched{kGrey, kGrey, kGrey};

// Hue in degrees [0, 360) of an RGB colour.
double hue(const Rgb& c) {
  const double r = c[0] / 255.0, g = c[1] / 255.0, b = c[2] / 255.0;
  const double hi = std::max({r, g, b}), lo = std::min({r, g, b}), d = hi - lo;
  if (d == 0) return 0;
  const double h = hi == r ? std::fmod((g - b) / d, 6.0) : hi == g ? (b - r) / d + 2 : (r - g) / d + 4;
  return std::fmod(h * 60 + 360, 360);
}
double hue_distance(const Rgb& a, const Rgb& b) {
  const double d = std::fabs(hue(a) - hue(b));
  return std::min(d, 360 - d);
}

TEST(DrawBoxes, PaletteAndLabelText) {
  EXPECT_EQ(class_color(0), (Rgb{0xFF, 0x38, 0x38}));
  EXPECT_EQ(class_color(1), (Rgb{0x00, 0xC2, 0xFF}));
  EXPECT_EQ(class_color(23), class_color(3));  // 20 colours, cycling
  // Classes told apart at a glance: neighbouring ids at least 50 degrees of hue apart (red and
  // pink, 3 degrees, were classes 0 and 1), and the first four at least 60 from each other.
  for (int64_t k = 0; k + 1 < 20; ++k) EXPECT_GE(hue_distance(class_color(k), class_color(k + 1)), 50.0) << k;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < i; ++j) EXPECT_GE(hue_distance(class_color(i), class_color(j)), 60.0) << i << " " << j;
  EXPECT_EQ(detection_label({{0, 0, 1, 1}, 1, 0.8749}, {"cat", "dog"}), "dog 0.87");
  EXPECT_EQ(detection_label({{0, 0, 1, 1}, 7, 0.5}, {"cat"}), "7 0.50");
}

TEST(DrawBoxes, OutlineInClassColourInsideUntouchedLabelAbove) {
  const torch::Tensor in = grey_image();
  const Detection d{{40, 50, 100, 100}, 3, 0.87};
  const torch::Tensor out = draw_detections(in, {d}, {"a", "b", "c", "Sneaker"});
  ASSERT_EQ(out.sizes(), in.sizes());
  const Rgb c = class_color(3);
  // Line width max(2, round(140 * 0.003)) = 2, drawn inward from the box's pixel edges.
  for (int64_t x : {40, 41, 98, 99}) EXPECT_EQ(pixel(out, 75, x), c) << "column " << x;
  for (int64_t y : {50, 51, 98, 99}) EXPECT_EQ(pixel(out, y, 70), c) << "row " << y;
  EXPECT_EQ(pixel(out, 75, 42), kUntouched);
  EXPECT_EQ(pixel(out, 75, 97), kUntouched);
  EXPECT_EQ(pixel(out, 75, 39), kUntouched);   // outside, left
  EXPECT_EQ(pixel(out, 100, 70), kUntouched);  // outside, below
  EXPECT_EQ(pixel(out, 75, 70), kUntouched);   // centre
  // The label sits on the box's top edge, starting at its left: background in the class colour,
  // with text pixels (white on this purple, text_color) in it.
  int64_t text = 0, background = 0, grey = 0;
  for (int64_t y = 30; y < 50; ++y)
    for (int64_t x = 40; x < 90; ++x) {
      const Rgb p = pixel(out, y, x);
      if (p == c) ++background;
      else if (p == kUntouched) ++grey;
      else if (p[0] > c[0] && p[1] > c[1]) ++text;
    }
  EXPECT_GT(text, 40) << "no glyph pixels in the label";
  EXPECT_GT(background, 200);
  EXPECT_EQ(pixel(out, 49, 40), c);  // the label's bottom-left touches the box
  // The input is not modified.
  EXPECT_TRUE(torch::equal(in, grey_image()));
}

TEST(DrawBoxes, LabelsStayInsideTheImage) {
  // At the top border: the label goes inside the box; at the right border it moves left.
  const Detection top{{10, 0, 60, 50}, 0, 0.5};
  const Detection right{{150, 70, 160, 100}, 1, 0.99};
  const torch::Tensor out = draw_detections(grey_image(), {top, right}, {"person", "bicycle"});
  EXPECT_EQ(pixel(out, 15, 30), class_color(0));  // the label's bottom padding, inside the top box
  // The right box's label (wider than the box) ends at the image's last column.
  EXPECT_EQ(pixel(out, 69, kW - 1), class_color(1));
  EXPECT_EQ(pixel(out, 69, 120), class_color(1));
}

TEST(DrawBoxes, BoxesOnAndPastTheBorderDoNotCrash) {
  const std::vector<Detection> dets = {{{-10, -5, 30, 20}, 2, 0.9},
                                       {{140, 100, 200, 130}, 4, 0.9},
                                       {{-50, -50, 500, 500}, 5, 0.3},
                                       {{0, 0, kW, kH}, 6, 0.3}};
  const torch::Tensor out = draw_detections(grey_image(), dets, {});
  EXPECT_EQ(pixel(out, kH - 1, kW / 2), class_color(6));  // the whole-image box's bottom edge
  EXPECT_EQ(pixel(out, kH / 2, kW - 1), class_color(6));  // and its right edge
  EXPECT_EQ(pixel(out, 110, 140), class_color(4));        // clipped box: left edge
}

TEST(DrawBoxes, EmptyBoxesDrawNothingAndGreyBecomesRgb) {
  const torch::Tensor out = draw_detections(grey_image(1), {{{30, 30, 30, 60}, 0, 0.9}, {{200, 10, 260, 40}, 0, 0.9}}, {});
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{kH, kW, 3}));
  EXPECT_TRUE(torch::equal(out, grey_image(3)));
}

TEST(DrawBoxes, WithoutLabelsOnlyOutlines) {
  DrawOptions opt;
  opt.labels = false;
  opt.line_width = 4;
  const torch::Tensor out = draw_detections(grey_image(), {{{40, 50, 100, 100}, 0, 0.9}}, {"x"}, opt);
  EXPECT_EQ(pixel(out, 75, 43), class_color(0));
  EXPECT_EQ(pixel(out, 75, 44), kUntouched);
  EXPECT_EQ(pixel(out, 45, 45), kUntouched);  // no label above
}

TEST(DrawBoxes, MissingFontNamesFileAndPackage) {
  DrawOptions opt;
  opt.font_file = "/nonexistent/DejaVuSans.ttf";
  const std::string err = test::user_error_of([&] { draw_detections(grey_image(), {{{1, 1, 20, 20}, 0, 0.5}}, {}, opt); });
  EXPECT_TRUE(test::contains(err, "/nonexistent/DejaVuSans.ttf")) << err;
  EXPECT_TRUE(test::contains(err, "fonts-dejavu-core")) << err;
}

}  // namespace
}  // namespace ptft
