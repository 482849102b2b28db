// apps/ptft/image_options.h — the image-preprocessing flags of `predict` and `eval`, for weights
// that do not record their transform (a torchvision state dict): --size --channels --mean --std.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "ptft/data/image_preprocess.h"

namespace ptft::cli {

struct ImageOptions {
  int64_t size = 0;
  int64_t channels = 0;
  std::vector<double> mean, std;

  void add_to(CLI::App& sub) {
    sub.add_option("--size", size, "image models: input size (overrides the checkpoint's record)");
    sub.add_option("--channels", channels, "image models: 1 or 3 input channels");
    sub.add_option("--mean", mean, "image models: per-channel mean of [0,1] pixels")->delimiter(',');
    sub.add_option("--std", std, "image models: per-channel std")->delimiter(',');
  }
  // Set when any flag was given; --size and --channels are then required.
  std::optional<ImagePreprocess> get() const;
};

}  // namespace ptft::cli
