#include "ptft/data/detection_config.h"

#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

void in_range(const std::string& key, double v, double lo, double hi, const std::string& hint) {
  if (!(v >= lo && v <= hi))
    throw UserError("data.detection." + key + " must be in [" + config::format_number(lo) + ", " + config::format_number(hi) + "], got " + config::format_number(v), hint);
}

}  // namespace

void DetectionDataConfig::validate() const {
  if (size < 0 || (size > 0 && size % 32 != 0))
    throw UserError("data.detection.size must be a multiple of 32 (the detector's largest stride), got " +
                        std::to_string(size),
                    "e.g. 128, 160, 320, 640; 0 = the model's image_size");
  in_range("mosaic", mosaic, 0, 1, "a probability; 0 = off");
  if (close_mosaic < 0)
    throw UserError("data.detection.close_mosaic must be >= 0, got " + std::to_string(close_mosaic), "0 = mosaic to the end");
  in_range("fliplr", fliplr, 0, 1, "a probability; 0 = off");
  in_range("hsv_h", hsv_h, 0, 0.5, "Ultralytics' default is 0.015; 0 = off");
  in_range("hsv_s", hsv_s, 0, 1, "Ultralytics' default is 0.7; 0 = off");
  in_range("hsv_v", hsv_v, 0, 1, "Ultralytics' default is 0.4; 0 = off");
  in_range("scale", scale, 0, 0.9, "the scale is drawn from [1 - scale, 1 + scale]; 0 = off");
  in_range("translate", translate, 0, 0.5, "a share of the side; 0 = off");
  in_range("min_box_area", min_box_area, 0, 1, "e.g. 0.25");
  if (max_objects < 1)
    throw UserError("data.detection.max_objects must be >= 1, got " + std::to_string(max_objects));
  if (per_split < 0) throw UserError("data.detection.per_split must be >= 0, got " + std::to_string(per_split), "0 = all");
}

}  // namespace ptft
