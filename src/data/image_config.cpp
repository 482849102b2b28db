#include "ptft/data/image_config.h"

#include <set>

#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

void probability(const std::string& key, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw UserError("data.images." + key + " must be a probability in [0, 1], got " + config::format_number(p));
}

}  // namespace

void AugmentConfig::validate() const {
  probability("augment.hflip", hflip);
  probability("augment.erasing", erasing);
  if (pad_crop < 0) throw UserError("data.images.augment.pad_crop must be >= 0, got " + std::to_string(pad_crop));
  if (resized_crop.size() != 2 || !(resized_crop[0] > 0.0) || !(resized_crop[0] <= resized_crop[1]) ||
      !(resized_crop[1] <= 1.0)) {
    std::string got;
    for (double v : resized_crop) got += (got.empty() ? "" : ", ") + config::format_number(v);
    throw UserError("data.images.augment.resized_crop must be [lo, hi] with 0 < lo <= hi <= 1, got [" + got + "]",
                    "the share of the image area a random crop keeps, e.g. [0.35, 1.0]; [1.0, 1.0] = off");
  }
  if (!(jitter >= 0.0 && jitter < 1.0))
    throw UserError("data.images.augment.jitter must be in [0, 1), got " + config::format_number(jitter),
                    "factors are drawn from [1 - jitter, 1 + jitter], e.g. 0.4");
}

bool AugmentConfig::active() const {
  return hflip > 0 || pad_crop > 0 || resized_crop[0] < 1.0 || jitter > 0 || erasing > 0;
}

void ImageDataConfig::validate() const {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw UserError("data.images.val_fraction must be in [0, 1), got " + config::format_number(val_fraction),
                    "e.g. 0.1 holds out 10% of data.train as the val split; 0 = off");
  if (per_class < 0) throw UserError("data.images.per_class must be >= 0, got " + std::to_string(per_class));
  if (size < 0) throw UserError("data.images.size must be >= 0, got " + std::to_string(size), "0 = the data's own size");
  if (channels != 0 && channels != 1 && channels != 3)
    throw UserError("data.images.channels must be 1 or 3 (or 0 = the data's own), got " + std::to_string(channels));
  if (cache_mb <= 0) throw UserError("data.images.cache_mb must be > 0, got " + std::to_string(cache_mb));
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<std::string>*>{"classes", &classes},
                                  {"class_names", &class_names}}) {
    std::set<std::string> seen;
    for (const auto& c : *list) {
      if (c.empty()) throw UserError(std::string("data.images.") + key + " has an empty name");
      if (!seen.insert(c).second)
        throw UserError(std::string("data.images.") + key + " names '" + c + "' twice", "list each class once");
    }
  }
  if (!mean.empty() && !std.empty() && mean.size() != 1 && std.size() != 1 && mean.size() != std.size())
    throw UserError("data.images.mean has " + std::to_string(mean.size()) + " values but data.images.std has " +
                        std::to_string(std.size()),
                    "give one value per channel (or one value for all) in both");
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<double>*>{"mean", &mean}, {"std", &std}}) {
    if (list->size() != 0 && list->size() != 1 && list->size() != 3)
      throw UserError(std::string("data.images.") + key + " has " + std::to_string(list->size()) +
                          " values; give 1 (all channels) or one per channel (1 or 3)");
  }
  for (double s : std)
    if (!(s > 0)) throw UserError("data.images.std values must be > 0, got " + config::format_number(s));
  if (channels != 0)
    for (const auto& [key, list] : {std::pair<const char*, const std::vector<double>*>{"mean", &mean}, {"std", &std}})
      resolve_norm(*list, channels, std::string("data.images.") + key);
}

std::vector<double> resolve_norm(const std::vector<double>& values, int64_t channels, const std::string& key) {
  if (values.empty()) return std::vector<double>(static_cast<std::size_t>(channels), 0.5);
  if (values.size() == 1) return std::vector<double>(static_cast<std::size_t>(channels), values[0]);
  if (static_cast<int64_t>(values.size()) != channels)
    throw UserError(key + " has " + std::to_string(values.size()) + " values, but the images have " +
                        std::to_string(channels) + (channels == 1 ? " channel" : " channels"),
                    "give one value per channel, or one value for all (or set data.images.channels)");
  return values;
}

void to_json(nlohmann::json& j, const ImageClassSelection& s) {
  j = nlohmann::json{{"class_names", s.class_names}, {"classes", s.classes}};
}

void from_json(const nlohmann::json& j, ImageClassSelection& s) {
  auto list = [&](const char* key) {
    std::vector<std::string> out;
    if (!j.is_object() || !j.contains(key)) return out;
    const auto& v = j.at(key);
    if (!v.is_array()) throw UserError(std::string("image class selection: '") + key + "' must be a list of names");
    for (const auto& e : v) {
      if (!e.is_string()) throw UserError(std::string("image class selection: '") + key + "' must hold strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  };
  if (!j.is_object()) throw UserError("image class selection must be a JSON object, got " + std::string(j.type_name()));
  s.class_names = list("class_names");
  s.classes = list("classes");
}

}  // namespace ptft
