// src/data/hsv_math.h — private to src/data: one pixel between RGB and OpenCV's 8-bit HSV
// convention (H in degrees / 2, in [0, 180); S and V in [0, 255]), as float arithmetic that the
// HSV jitter's loop (hsv_kernel.cpp) and the tensor conversions (detection_augment.cpp) share.
// Written branch-free (every candidate computed, one selected) so that the loop vectorises.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

namespace ptft::hsv {

inline void hsv_of(float r, float g, float b, float& h, float& s, float& v) {
  v = std::max(std::max(r, g), b);
  const float d = v - std::min(std::min(r, g), b);
  const float safe_d = d > 0 ? d : 1.0f;
  s = v > 0 ? d / v * 255.0f : 0.0f;
  // Degrees as OpenCV: which channel is the maximum decides the sector (R first, then G).
  const float from_r = 60.0f * (g - b) / safe_d, from_g = 120.0f + 60.0f * (b - r) / safe_d,
              from_b = 240.0f + 60.0f * (r - g) / safe_d;
  float hue = v == r ? from_r : (v == g ? from_g : from_b);
  hue = d > 0 ? hue : 0.0f;
  hue = hue < 0 ? hue + 360.0f : hue;
  h = hue / 2.0f;
}

inline std::array<float, 3> hsv_of(float r, float g, float b) {
  std::array<float, 3> out{};
  hsv_of(r, g, b, out[0], out[1], out[2]);
  return out;
}

inline float python_mod(float a, float m) { return a - std::floor(a / m) * m; }

// Back by the closed form: channel n = v - v s max(0, min(k, 4 - k, 1)), k = (n + H/60) mod 6.
inline float rgb_channel(float sector, float s, float v, float n) {
  const float k = python_mod(sector + n, 6.0f);
  return v - v * s * std::clamp(std::min(k, 4.0f - k), 0.0f, 1.0f);
}

inline std::array<float, 3> rgb_of(float hue, float sat, float v) {
  const float sector = hue / 30.0f, s = sat / 255.0f;  // degrees / 60, in [0, 6)
  return {rgb_channel(sector, s, v, 5), rgb_channel(sector, s, v, 3), rgb_channel(sector, s, v, 1)};
}

}  // namespace ptft::hsv
