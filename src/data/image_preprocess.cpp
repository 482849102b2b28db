#include "ptft/data/image_preprocess.h"

#include "ptft/core/error.h"
#include "ptft/data/image_io.h"

namespace ptft {

void to_json(nlohmann::json& j, const ImagePreprocess& p) {
  j = nlohmann::json{{"size", p.size}, {"channels", p.channels}, {"mean", p.mean}, {"std", p.std}};
}

void from_json(const nlohmann::json& j, ImagePreprocess& p) {
  const std::string what = "image preprocessing (config.json \"image_preprocess\")";
  if (!j.is_object()) throw UserError(what + " must be an object, got " + std::string(j.type_name()));
  auto integer = [&](const char* key) {
    if (!j.contains(key) || !j.at(key).is_number_integer())
      throw UserError(what + ": '" + key + "' must be an integer", "the checkpoint's config.json is damaged");
    return j.at(key).get<int64_t>();
  };
  auto numbers = [&](const char* key) {
    if (!j.contains(key) || !j.at(key).is_array())
      throw UserError(what + ": '" + key + "' must be a list of numbers", "the checkpoint's config.json is damaged");
    std::vector<double> out;
    for (const auto& e : j.at(key)) {
      if (!e.is_number()) throw UserError(what + ": '" + key + "' must be a list of numbers");
      out.push_back(e.get<double>());
    }
    return out;
  };
  ImagePreprocess out{integer("size"), integer("channels"), numbers("mean"), numbers("std")};
  if (out.size < 1) throw UserError(what + ": size must be >= 1, got " + std::to_string(out.size));
  if (out.channels != 1 && out.channels != 3)
    throw UserError(what + ": channels must be 1 or 3, got " + std::to_string(out.channels));
  if (static_cast<int64_t>(out.mean.size()) != out.channels || static_cast<int64_t>(out.std.size()) != out.channels)
    throw UserError(what + ": mean and std need " + std::to_string(out.channels) + " values each");
  for (double s : out.std)
    if (!(s > 0)) throw UserError(what + ": std values must be > 0");
  p = std::move(out);
}

torch::Tensor convert_channels(const torch::Tensor& x, int64_t channels) {
  PTFT_CHECK(x.dim() >= 3, "convert_channels needs (..., C, H, W)");
  const int64_t c = x.size(-3);
  PTFT_CHECK((c == 1 || c == 3) && (channels == 1 || channels == 3),
             "convert_channels " + std::to_string(c) + " -> " + std::to_string(channels));
  if (c == channels) return x;
  if (c == 1) {
    auto sizes = x.sizes().vec();
    sizes[sizes.size() - 3] = 3;
    return x.expand(sizes);
  }
  const auto f = x.to(torch::kFloat);
  auto grey = 0.299 * f.narrow(-3, 0, 1) + 0.587 * f.narrow(-3, 1, 1) + 0.114 * f.narrow(-3, 2, 1);  // (..., 1, H, W)
  if (x.scalar_type() == torch::kUInt8) return grey.round_().clamp_(0, 255).to(torch::kUInt8);
  return grey.to(x.scalar_type());
}

torch::Tensor fit_images(const torch::Tensor& bchw_uint8, int64_t size) {
  PTFT_CHECK(bchw_uint8.dim() == 4 && bchw_uint8.scalar_type() == torch::kUInt8, "fit_images needs (B, C, H, W) uint8");
  PTFT_CHECK(size > 0, "fit_images to size " + std::to_string(size));
  const int64_t h = bchw_uint8.size(2), w = bchw_uint8.size(3);
  if (h == size && w == size) return bchw_uint8;
  // Shorter side to `size`, the longer one in proportion (at least `size`).
  const int64_t nh = h <= w ? size : std::max(size, size * h / w);
  const int64_t nw = h <= w ? std::max(size, size * w / h) : size;
  auto resized = resize_bilinear(bchw_uint8.to(torch::kFloat), nh, nw).round_().clamp_(0, 255);  // (B, C, nh, nw)
  return resized.narrow(2, (nh - size) / 2, size).narrow(3, (nw - size) / 2, size).to(torch::kUInt8).contiguous();
}

torch::Tensor normalize(const torch::Tensor& x01, const std::vector<double>& mean, const std::vector<double>& std) {
  PTFT_CHECK(x01.dim() >= 3, "normalize needs (..., C, H, W)");
  const int64_t c = x01.size(-3);
  PTFT_CHECK(static_cast<int64_t>(mean.size()) == c && static_cast<int64_t>(std.size()) == c,
             "normalize: " + std::to_string(c) + " channels, " + std::to_string(mean.size()) + " means, " +
                 std::to_string(std.size()) + " stds");
  auto opts = torch::TensorOptions().dtype(x01.scalar_type()).device(x01.device());
  auto m = torch::tensor(mean, torch::kDouble).to(opts).view({c, 1, 1});
  auto s = torch::tensor(std, torch::kDouble).to(opts).view({c, 1, 1});
  return (x01 - m) / s;
}

torch::Tensor preprocess_image(const torch::Tensor& hwc_uint8, const ImagePreprocess& pre) {
  PTFT_CHECK(hwc_uint8.dim() == 3 && hwc_uint8.scalar_type() == torch::kUInt8, "preprocess_image needs (H, W, C) uint8");
  auto chw = convert_channels(hwc_uint8.permute({2, 0, 1}), pre.channels);  // (C, H, W)
  auto fitted = fit_images(chw.unsqueeze(0).contiguous(), pre.size)[0];     // (C, size, size)
  return normalize(fitted.to(torch::kFloat).div_(255.0), pre.mean, pre.std);
}

torch::Tensor load_image_for_model(const std::string& path, const ImagePreprocess& pre) {
  return preprocess_image(decode_image(path), pre);
}

}  // namespace ptft
