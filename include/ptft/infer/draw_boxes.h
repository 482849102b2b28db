// ptft/infer/draw_boxes.h — detections drawn onto an image, as Ultralytics draws them: each box
// a rectangle outline in its class's colour (a fixed 20-colour palette, class id modulo 20), a
// filled label in that colour above the box's top-left corner ("name 0.87", white or black text,
// whichever reads better on the colour; inside the box when there is no room above), moved
// sideways so it stays inside the image. What `ptft detect` writes as DIR/<stem>.png.
//
// The text is rendered with stb_truetype (libstb-dev) from DejaVu Sans (fonts-dejavu-core); a
// missing font file is a UserError naming it and the package.
//
//   torch::Tensor img = decode_image("street.jpg");                        // (H, W, 3) uint8
//   torch::Tensor out = draw_detections(img, dets, {"person", "car"});     // (H, W, 3) uint8, a copy
//   write_png("out/street.png", out);
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ptft/core/boxes.h"

namespace ptft {

constexpr const char* kDefaultFontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

using Rgb = std::array<uint8_t, 3>;

// The colour of class `cls` (Ultralytics' palette, cycling every 20 classes).
Rgb class_color(int64_t cls);

struct DrawOptions {
  int64_t line_width = 0;  // outline thickness in pixels; 0 = max(2, round((H + W) / 2 * 0.003))
  int64_t font_px = 0;     // text height in pixels; 0 = max(12, round((H + W) / 2 * 0.035))
  bool labels = true;      // draw the "name score" labels
  std::string font_file = kDefaultFontFile;
};

// The label text of a detection: "<name> 0.87" (the class id when `names` has no entry for it).
std::string detection_label(const Detection& d, const std::vector<std::string>& names);

// A copy of `hwc_uint8` ((H, W, 1|3) uint8; grey becomes RGB) with every detection drawn, in
// the given order (later ones on top). Boxes are in pixels of this image and may reach past
// its edges (they are clipped); empty boxes draw nothing.
torch::Tensor draw_detections(const torch::Tensor& hwc_uint8, const std::vector<Detection>& dets,
                              const std::vector<std::string>& names, const DrawOptions& opt = {});

}  // namespace ptft
