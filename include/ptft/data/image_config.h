// ptft/data/image_config.h — the `data.images` section: how image data sets become batches.
// Torch-free (bound by the run config like every section).
//
//   data:
//     train: data/fmnist/train-images-idx3-ubyte.gz   # IDX, a folder of class folders, or a CSV
//     images: {val_fraction: 0.1, size: 32, channels: 3, per_class: 10,
//              augment: {hflip: 0.5, pad_crop: 4}}
//
//   ImageDataConfig images;
//   config::bind(doc, images, "data.images");          // validate() explains every bad value
//   nlohmann::json j = ImageClassSelection{images.class_names, train_src->class_names()};  // checkpoint
//   auto sel = j.get<ImageClassSelection>();            // later, for a test file:
//   images.class_names = sel.class_names;  images.classes = sel.classes;
//
// Class ids: `classes` (names) in their order when given; otherwise every class of the data:
// folder data sets' sub-folder names sorted, CSV name labels sorted, numeric labels (IDX, CSV
// with integer labels) as they are (label i = class i, named class_names[i] or "i").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ptft {

// Training-time augmentation, applied per example with its own random draws (ptft/data/augment.h).
struct AugmentConfig {
  double hflip = 0.0;                             // probability of a horizontal flip
  int64_t pad_crop = 0;                           // pad N zero pixels per side, crop back at a random offset
  std::vector<double> resized_crop = {1.0, 1.0};  // random crop of this share of the area (aspect 3/4..4/3), resized back; [1, 1] = off
  double jitter = 0.0;                            // brightness, contrast, saturation factors uniform in [1-j, 1+j]
  double erasing = 0.0;                           // probability of zeroing a random rectangle (2-33% of the area) after normalisation
  template <class V> void visit(V& v) {
    v("hflip", hflip, "probability of a horizontal flip");
    v("pad_crop", pad_crop, "pad N pixels (zeros) per side, then crop back to size at a random offset; 0 = off");
    v("resized_crop", resized_crop, "random-resized-crop area range [lo, hi] (aspect 3/4..4/3); [1.0, 1.0] = off");
    v("jitter", jitter, "colour jitter: brightness/contrast/saturation factors in [1-j, 1+j]; 0 = off");
    v("erasing", erasing, "probability of random erasing (a rectangle of 2-33% of the area set to 0 after normalisation)");
  }
  void validate() const;  // UserError naming data.images.augment.KEY
  bool active() const;    // any augmentation at all
};

struct ImageDataConfig {
  double val_fraction = 0.0;              // data.val empty: this share of data.train is the val split
  std::vector<std::string> classes;       // keep only these classes, in this order (= ids); empty = all
  std::vector<std::string> class_names;   // names of numeric labels; empty = "0", "1", ...
  int64_t per_class = 0;                  // few-shot: at most N training examples per class; 0 = all
  int64_t size = 0;                       // model input height = width; 0 = the data's own
  int64_t channels = 0;                   // 1 or 3; 0 = the data's own
  std::vector<double> mean;               // per-channel normalisation of [0, 1] pixels; empty = 0.5
  std::vector<double> std;                // empty = 0.5; one value = every channel
  bool skip_corrupt = false;              // unreadable images: error (false) or skipped and counted
  int64_t cache_mb = 4096;                // decoded folder/CSV data sets larger than this are an error
  AugmentConfig augment;
  template <class V> void visit(V& v) {
    v("val_fraction", val_fraction,
      "data.val empty: hold out this share of data.train as the val split (fixed by example, the same for every seed)");
    v("classes", classes, "keep only these classes (by name), in this order = class ids; empty = all");
    v("class_names", class_names, "names of numeric labels (IDX, CSV with integer labels); empty = 0, 1, ...");
    v("per_class", per_class, "few-shot: keep at most N training examples per class (chosen by the seed); 0 = all");
    v("size", size, "model input height = width (resize shorter side + centre crop); 0 = the data's own");
    v("channels", channels, "1 or 3 (grey <-> RGB converted); 0 = the data's own");
    v("mean", mean, "per-channel mean of [0,1] pixels for normalisation; empty = 0.5; one value = all channels");
    v("std", std, "per-channel std for normalisation; empty = 0.5; one value = all channels");
    v("skip_corrupt", skip_corrupt, "skip (and count) unreadable images instead of stopping with an error");
    v("cache_mb", cache_mb, "largest decoded folder/CSV data set held in memory (MB)");
    v("augment", augment, "training augmentation");
  }
  void validate() const;  // UserError naming data.images.KEY
};

// mean / std for `channels` channels: empty -> 0.5 each, one value -> repeated. UserError naming
// data.images.mean / .std when the list has another length than 1 or `channels`.
std::vector<double> resolve_norm(const std::vector<double>& values, int64_t channels, const std::string& key);

// The class part of the config, stored with a checkpoint so that `ptft eval` applies the same
// class ids to a test file: {"class_names": [...], "classes": [...]}.
struct ImageClassSelection {
  std::vector<std::string> class_names;
  std::vector<std::string> classes;
};
void to_json(nlohmann::json& j, const ImageClassSelection& s);
void from_json(const nlohmann::json& j, ImageClassSelection& s);  // UserError on a malformed object

}  // namespace ptft
