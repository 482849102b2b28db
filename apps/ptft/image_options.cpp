#include "image_options.h"

#include "ptft/core/error.h"
#include "ptft/data/image_config.h"

namespace ptft::cli {

std::optional<ImagePreprocess> ImageOptions::get() const {
  if (size == 0 && channels == 0 && mean.empty() && std.empty()) return std::nullopt;
  if (size <= 0 || (channels != 1 && channels != 3))
    throw UserError("--size " + std::to_string(size) + " --channels " + std::to_string(channels) +
                        ": image preprocessing flags need --size N (> 0) and --channels 1|3",
                    "e.g. --size 224 --channels 3 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225");
  ImagePreprocess p;
  p.size = size;
  p.channels = channels;
  p.mean = resolve_norm(mean, channels, "--mean");
  p.std = resolve_norm(std, channels, "--std");
  return p;
}

}  // namespace ptft::cli
