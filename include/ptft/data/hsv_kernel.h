// ptft/data/hsv_kernel.h — the HSV jitter of detection augmentation over one 8-bit RGB image,
// torch-free: each pixel to HSV (OpenCV's convention), hue shifted (mod 180), saturation and value
// scaled (held in [0, 255]), back to RGB, rounded to the nearest level. Planar: R, G and B planes
// of n pixels each, in and out. Multiversioned (AVX-512 / AVX2 / baseline), without contracting
// multiply-adds: the same levels on every CPU.
//
//   hsv_jitter_planes(in, out, h * w, hue_shift_half_degrees, s_gain, v_gain);
#pragma once

#include <array>
#include <cstdint>

namespace ptft {

// hue_shift in H's units (degrees / 2); s_gain, v_gain >= 0.
void hsv_jitter_planes(const uint8_t* in, uint8_t* out, int64_t n, float hue_shift, float s_gain, float v_gain);

// One pixel, the same arithmetic without vectors: the definition the planes' loop keeps (tests).
std::array<uint8_t, 3> hsv_jitter_pixel(uint8_t r, uint8_t g, uint8_t b, float hue_shift, float s_gain, float v_gain);

}  // namespace ptft
