// ptft/data/image_io.h — image files <-> uint8 tensors, and resizing of float image batches.
//
// Decoding: ptft/data/image_decode.h (stb_image; PNG, JPEG, BMP, GIF's first frame, TGA, PNM).
// A decoded image is (H, W, C) uint8 with C = 1 (grey; a grey+alpha file loses its alpha) or
// C = 3 (RGB; an RGBA file loses its alpha, as PIL's convert("RGB") does). Errors are UserErrors
// that name the file and what is wrong with it: missing, unreadable, not an image / damaged
// (stb's reason), larger than the size limits (16384 pixels per side, 100 megapixels; checked
// from the header, before decoding).
//
//   torch::Tensor img = decode_image("cat.jpg");                 // (H, W, 3) uint8
//   write_png("out/boxes.png", img);                              // atomic (ptft::fs)
//   auto x = img.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat);          // (1, 3, H, W)
//   auto y = resize_bilinear(x, 64, 64);                                      // (1, 3, 64, 64)
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptft/data/image_decode.h"

namespace ptft {

// (H, W, C) uint8 of the image file `path`, C in {1, 3}.
torch::Tensor decode_image(const std::string& path);
// The same from the bytes of an image file; `name` (a path) is what error messages call it.
torch::Tensor decode_image_bytes(const std::string& bytes, const std::string& name);

// Writes (H, W, C) uint8, C in {1, 3, 4}, as a PNG file, atomically. InternalError for another
// shape or dtype; UserError when the file cannot be written.
void write_png(const std::string& path, const torch::Tensor& hwc_uint8);
// The PNG bytes of the same (for tests and in-memory use).
std::string encode_png(const torch::Tensor& hwc_uint8);

// Resizes (B, C, H, W) float to (B, C, h, w) bilinearly (align_corners = false, as PIL and
// torchvision). libtorch 1.13 has no antialiased bilinear mode, so a shrink by more than 2x per
// side first averages pixel areas (mode "area") down to twice the target, then interpolates:
// thin lines survive instead of aliasing away. Returns the input when the size already matches.
torch::Tensor resize_bilinear(const torch::Tensor& bchw, int64_t h, int64_t w);

}  // namespace ptft
