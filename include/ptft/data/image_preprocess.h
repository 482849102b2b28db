// ptft/data/image_preprocess.h — the deterministic image transform (evaluation, prediction).
//
// One image: decode -> channels (grey <-> RGB) -> fit to size x size -> [0, 1] -> normalise:
//   fit = resize the shorter side to `size` (bilinear, the longer one to floor(size * long /
//   short)), then crop the centre (offset floor((long' - size) / 2)); a square image is simply
//   resized. Pixels are rounded back to uint8 after resizing, exactly as the data sets store
//   them (ptft/data/image_source.h), so `ptft predict` sees the same numbers as evaluation.
//   normalise: (x - mean[c]) / std[c].
// ImagePreprocess is what a checkpoint stores (config.json) to reproduce it.
//
//   ImagePreprocess pre{32, 3, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}};
//   torch::Tensor x = load_image_for_model("cat.jpg", pre);           // (3, 32, 32) float
//   nlohmann::json j = pre;  auto back = j.get<ImagePreprocess>();
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ptft {

struct ImagePreprocess {
  int64_t size = 0;          // height = width of the model input
  int64_t channels = 0;      // 1 or 3
  std::vector<double> mean;  // `channels` values
  std::vector<double> std;   // `channels` values
};
// {"size": 32, "channels": 3, "mean": [...], "std": [...]}; from_json: UserError naming the
// field that is missing or inconsistent.
void to_json(nlohmann::json& j, const ImagePreprocess& p);
void from_json(const nlohmann::json& j, ImagePreprocess& p);

// (..., C, H, W) uint8 or float with C in {1, 3} -> `channels` channels: grey -> RGB repeats
// the plane; RGB -> grey is 0.299 R + 0.587 G + 0.114 B (rounded for uint8). Same C: unchanged.
torch::Tensor convert_channels(const torch::Tensor& x, int64_t channels);

// (B, C, H, W) uint8 -> (B, C, size, size) uint8: shorter side to `size`, centre crop (above).
torch::Tensor fit_images(const torch::Tensor& bchw_uint8, int64_t size);

// (B, C, H, W) float in [0, 1] -> (x - mean[c]) / std[c]; mean, std have C values.
torch::Tensor normalize(const torch::Tensor& x01, const std::vector<double>& mean, const std::vector<double>& std);

// (H, W, C) uint8 as decoded -> (channels, size, size) float, normalised.
torch::Tensor preprocess_image(const torch::Tensor& hwc_uint8, const ImagePreprocess& pre);
// decode_image(path) + preprocess_image; errors name the file.
torch::Tensor load_image_for_model(const std::string& path, const ImagePreprocess& pre);

}  // namespace ptft
