// ptft/data/synth_detection.h — synthetic object-detection scenes in the Ultralytics layout
// (`ptft data synth-detection`): items of a labelled image set (Fashion-MNIST by default) pasted at
// random positions and scales, each with a random colour, onto textured backgrounds.
//
// Every scene is a pure function of (seed, split, scene index): a rerun writes the same bytes.
// Items for train scenes come from source images whose index % 5 != 0, val scenes from the rest,
// so no item picture appears in both splits. An item is pasted as a mask (its grey level is its
// opacity) tinted with one random colour; its box is the tight box of its visible pixels (grey
// level > 25). A placement overlapping an earlier box by IoU > 0.3 is redrawn (at most 20 times,
// then that item is left out). A share `negatives` of the scenes has no items (empty label files).
//
//   OUT/data.yaml                  path: ., train: images/train, val: images/val (left out for --val 0), names
//   OUT/images/{train,val}/NNNNNN.png    OUT/labels/{train,val}/NNNNNN.txt  (class cx cy w h)
//
//   SynthDetectionOptions o;  o.out = "data/scenes";  o.classes = {"Bag", "Sneaker"};
//   SynthDetectionSummary s = synth_detection(o);     // s.objects: items placed per split
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ptft {

struct SynthDetectionOptions {
  std::string source = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";  // IDX images (+ labels)
  std::vector<std::string> class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  std::vector<std::string> classes;  // the source classes to place, in output id order (empty = all)
  std::string out;                   // output directory (must not exist, or be empty)
  int64_t train = 200, val = 50;     // scenes per split
  int64_t size = 128;                // scene side in pixels
  int64_t min_objects = 1, max_objects = 4;
  double min_scale = 1.0, max_scale = 2.5;  // item side = source side x scale
  double negatives = 0.0;            // share of scenes without items
  uint64_t seed = 1;
  void validate() const;             // UserError naming the option
};

struct SynthDetectionSummary {
  std::vector<std::string> names;             // output class names by id
  int64_t scenes[2] = {0, 0}, objects[2] = {0, 0};  // train, val
  std::string text() const;                   // one human line
};

SynthDetectionSummary synth_detection(const SynthDetectionOptions& o);

}  // namespace ptft
