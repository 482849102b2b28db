#include "ptft/infer/draw_boxes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"

// stb_truetype: header-only C, compiled into this file with internal linkage.
#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wcast-qual"
#include <stb/stb_truetype.h>
#pragma GCC diagnostic pop

namespace ptft {
namespace {

// The 20 colours of Ultralytics' palette (ultralytics/utils/plotting.py Colors), RGB, in an order
// where neighbouring class ids differ in hue by 50 degrees or more (Ultralytics' own order makes
// classes 0 and 1 red and pink).
constexpr uint32_t kPalette[] = {0xFF3838, 0x00C2FF, 0x48F90A, 0x8438FF, 0xFFB21D, 0x00D4BB, 0xFF37C7,
                                 0x344593, 0xFF701F, 0x3DDB86, 0xCB38FF, 0xCFD231, 0x0018EC, 0xFF9D97,
                                 0x1A9334, 0x6473FF, 0x92CC17, 0x2C99A8, 0x520085, 0xFF95C8};
constexpr int64_t kPaletteSize = static_cast<int64_t>(sizeof kPalette / sizeof kPalette[0]);

struct Font {
  std::string bytes;  // the .ttf file; stbtt_fontinfo points into it
  stbtt_fontinfo info{};
};

// Fonts are parsed once per process and file.
std::shared_ptr<const Font> load_font(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Font>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError("the label font '" + path + "' does not exist",
                    "install the package fonts-dejavu-core (scripts/setup.sh), which ships DejaVuSans.ttf");
  auto font = std::make_shared<Font>();
  font->bytes = fs::read_file(path, "label font");
  const auto* data = reinterpret_cast<const unsigned char*>(font->bytes.data());
  const int offset = stbtt_GetFontOffsetForIndex(data, 0);
  if (offset < 0 || !stbtt_InitFont(&font->info, data, offset))
    throw UserError("'" + path + "' is not a TrueType font stb_truetype can read",
                    "reinstall fonts-dejavu-core (its DejaVuSans.ttf is the font ptft draws labels with)");
  cache[path] = font;
  return font;
}

// Code points of UTF-8 text; a malformed byte becomes U+FFFD.
std::vector<int> code_points(const std::string& s) {
  std::vector<int> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    int cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = n > 0 && i + static_cast<size_t>(n) <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      ok = (cc >> 6) == 0x2;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(ok ? cp : 0xFFFD);
    i += ok ? static_cast<size_t>(n) : 1;
  }
  return out;
}

// A pixel rectangle [x0, x1) x [y0, y1).
struct Rect {
  int64_t x0, y0, x1, y1;
};

// The (H, W, 3) uint8 canvas being drawn on.
class Canvas {
 public:
  explicit Canvas(torch::Tensor hwc) : img_(std::move(hwc)), h_(img_.size(0)), w_(img_.size(1)) {
    px_ = img_.data_ptr<uint8_t>();
  }
  int64_t h() const { return h_; }
  int64_t w() const { return w_; }
  // Fills r (clipped to the image) with c.
  void fill(Rect r, const Rgb& c) {
    r = {std::max<int64_t>(r.x0, 0), std::max<int64_t>(r.y0, 0), std::min(r.x1, w_), std::min(r.y1, h_)};
    for (int64_t y = r.y0; y < r.y1; ++y)
      for (int64_t x = r.x0; x < r.x1; ++x) set(x, y, c, 255);
  }
  // Blends c over pixel (x, y) with coverage a in [0, 255]; outside the image: nothing.
  void set(int64_t x, int64_t y, const Rgb& c, int a) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_ || a <= 0) return;
    uint8_t* p = px_ + (y * w_ + x) * 3;
    for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>((c[static_cast<size_t>(k)] * a + p[k] * (255 - a) + 127) / 255);
  }
  torch::Tensor tensor() const { return img_; }

 private:
  torch::Tensor img_;
  int64_t h_, w_;
  uint8_t* px_;
};

// A line of text at a pixel height: its width, and drawing it inside a clip rectangle.
class TextLine {
 public:
  TextLine(std::shared_ptr<const Font> font, const std::string& text, int64_t px)
      : font_(std::move(font)), cps_(code_points(text)) {
    scale_ = stbtt_ScaleForPixelHeight(&font_->info, static_cast<float>(px));
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&font_->info, &ascent, &descent, &gap);
    ascent_ = static_cast<int64_t>(std::lround(ascent * scale_));
    height_ = static_cast<int64_t>(std::lround((ascent - descent) * scale_));
    float pen = 0;
    for (size_t i = 0; i < cps_.size(); ++i) {
      pens_.push_back(pen);
      int advance = 0, lsb = 0;
      stbtt_GetCodepointHMetrics(&font_->info, cps_[i], &advance, &lsb);
      pen += advance * scale_;
      if (i + 1 < cps_.size()) pen += scale_ * stbtt_GetCodepointKernAdvance(&font_->info, cps_[i], cps_[i + 1]);
    }
    width_ = static_cast<int64_t>(std::ceil(pen));
  }
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }  // ascent + descent

  // Draws with the top of the line at (x, y), only inside `clip`.
  void draw(Canvas& canvas, int64_t x, int64_t y, const Rgb& color, const Rect& clip) const {
    const int64_t baseline = y + ascent_;
    std::vector<unsigned char> bitmap;
    for (size_t i = 0; i < cps_.size(); ++i) {
      int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
      stbtt_GetCodepointBitmapBox(&font_->info, cps_[i], scale_, scale_, &x0, &y0, &x1, &y1);
      const int gw = x1 - x0, gh = y1 - y0;
      if (gw <= 0 || gh <= 0) continue;  // a space
      bitmap.assign(static_cast<size_t>(gw * gh), 0);
      stbtt_MakeCodepointBitmap(&font_->info, bitmap.data(), gw, gh, gw, scale_, scale_, cps_[i]);
      const int64_t ox = x + static_cast<int64_t>(std::lround(pens_[i])) + x0, oy = baseline + y0;
      for (int r = 0; r < gh; ++r)
        for (int c = 0; c < gw; ++c) {
          const int64_t px = ox + c, py = oy + r;
          if (px < clip.x0 || px >= clip.x1 || py < clip.y0 || py >= clip.y1) continue;
          canvas.set(px, py, color, bitmap[static_cast<size_t>(r * gw + c)]);
        }
    }
  }

 private:
  std::shared_ptr<const Font> font_;
  std::vector<int> cps_;
  std::vector<float> pens_;  // x of each glyph's origin
  float scale_ = 1;
  int64_t ascent_ = 0, height_ = 0, width_ = 0;
};

// White text on dark colours, black on light ones (ITU-R BT.601 luma).
Rgb text_color(const Rgb& bg) {
  const double luma = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2];
  return luma > 160 ? Rgb{0, 0, 0} : Rgb{255, 255, 255};
}

}  // namespace

Rgb class_color(int64_t cls) {
  const uint32_t v = kPalette[((cls % kPaletteSize) + kPaletteSize) % kPaletteSize];
  return {static_cast<uint8_t>(v >> 16), static_cast<uint8_t>((v >> 8) & 0xFF), static_cast<uint8_t>(v & 0xFF)};
}

std::string detection_label(const Detection& d, const std::vector<std::string>& names) {
  const bool named = d.cls >= 0 && d.cls < static_cast<int64_t>(names.size());
  char score[16];
  std::snprintf(score, sizeof score, " %.2f", d.score);
  return (named ? names[static_cast<size_t>(d.cls)] : std::to_string(d.cls)) + score;
}

torch::Tensor draw_detections(const torch::Tensor& hwc_uint8, const std::vector<Detection>& dets,
                              const std::vector<std::string>& names, const DrawOptions& opt) {
  PTFT_CHECK(hwc_uint8.dim() == 3 && hwc_uint8.scalar_type() == torch::kUInt8 &&
                 (hwc_uint8.size(2) == 1 || hwc_uint8.size(2) == 3),
             "draw_detections needs (H, W, 1|3) uint8");
  torch::Tensor img = hwc_uint8.size(2) == 1 ? hwc_uint8.repeat({1, 1, 3}) : hwc_uint8.clone();  // (H, W, 3)
  Canvas canvas(img.contiguous());
  const double side = static_cast<double>(canvas.h() + canvas.w()) / 2;
  const int64_t lw = opt.line_width > 0 ? opt.line_width : std::max<int64_t>(2, std::llround(side * 0.003));
  const int64_t font_px = opt.font_px > 0 ? opt.font_px : std::max<int64_t>(12, std::llround(side * 0.035));
  std::shared_ptr<const Font> font = opt.labels && !dets.empty() ? load_font(opt.font_file) : nullptr;
  for (const Detection& d : dets) {
    // The box's pixels, clipped: columns [x0, x1), rows [y0, y1).
    const auto clampx = [&](double v) { return std::clamp<int64_t>(std::llround(v), 0, canvas.w()); };
    const auto clampy = [&](double v) { return std::clamp<int64_t>(std::llround(v), 0, canvas.h()); };
    const Rect b{clampx(d.box.x1), clampy(d.box.y1), clampx(d.box.x2), clampy(d.box.y2)};
    if (d.box.area() <= 0 || b.x1 <= b.x0 || b.y1 <= b.y0) continue;
    const Rgb color = class_color(d.cls);
    // The outline grows inward, so a box on the image border stays visible.
    const int64_t tx = std::min(lw, b.x1 - b.x0), ty = std::min(lw, b.y1 - b.y0);
    canvas.fill({b.x0, b.y0, b.x1, b.y0 + ty}, color);
    canvas.fill({b.x0, b.y1 - ty, b.x1, b.y1}, color);
    canvas.fill({b.x0, b.y0, b.x0 + tx, b.y1}, color);
    canvas.fill({b.x1 - tx, b.y0, b.x1, b.y1}, color);
    if (!font) continue;
    const TextLine text(font, detection_label(d, names), font_px);
    const int64_t pad = std::max<int64_t>(1, font_px / 6);
    const int64_t lw_label = text.width() + 2 * pad, lh = text.height() + 2 * pad;
    // Above the box when it fits, else just inside its top edge; shifted left and up to stay in
    // the image (a label wider than the image is cut at its right edge).
    int64_t lx = std::max<int64_t>(0, std::min(b.x0, canvas.w() - lw_label));
    int64_t ly = b.y0 - lh >= 0 ? b.y0 - lh : b.y0;
    ly = std::max<int64_t>(0, std::min(ly, canvas.h() - lh));
    const Rect label{lx, ly, lx + lw_label, ly + lh};
    canvas.fill(label, color);
    text.draw(canvas, lx + pad, ly + pad, text_color(color), label);
  }
  return canvas.tensor();
}

}  // namespace ptft
