// ptft/data/detection_source.h — object-detection data (the Ultralytics layout, ptft/data/yolo_dataset.h)
// as a DataSource: data.train / data.val name a data.yaml.
//
// At open the split's images (data.yaml's train for split "train", val for "val", test for any
// other) are listed, every label file read (errors name file:line) and every image decoded in
// parallel and stored resized to longer side = S (Ultralytics' load_image) with its boxes in those
// pixels. S = data.detection.size, or the model's image_size (DataContext::image_size) when that
// is 0. data.detection.per_split keeps the first N training images (sorted order).
//
// Batches:
//   data["x"]       (B, 3, S, S) float pixels in [0, 1] (no mean/std: the detector normalises)
//   data["boxes"]   (B, M, 4) float x1, y1, x2, y2 in pixels of the S x S input
//   data["labels"]  (B, M) int64 class ids, -1 = padding;  M = most boxes of an example, >= 1
//   weight = B
// Training example e of the BatchAddress stream (ptft/data/sampling.h) is image perm_epoch[e % n]
// of epoch e / n, augmented by train_example (ptft/data/detection_augment.h) with draws keyed by
// (seed, e). Mosaic closes in the last data.detection.close_mosaic epochs of the run (epochs =
// ceil(total_steps x examples_per_step / n); it stays open when the run's length is unknown). A
// mosaic example may hold up to 4 x max_objects boxes. Evaluation batches: letterbox only, in
// order, the last one partial.
//
//   DataContext ctx;  ctx.detection = std::make_shared<DetectionDataConfig>(cfg);  ctx.image_size = 160;
//   DetectionSource src("data/scenes/data.yaml", "train", ctx);
//   Batch b = src.train_batch({step, micro, 16, 1});   // b.data["x"] (16, 3, 160, 160)
//   Batch v = src.eval_batch(0, 16);                   // letterboxed; src.letterbox_info(i) maps back
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ptft/data/data_source.h"
#include "ptft/data/detection_augment.h"
#include "ptft/data/detection_config.h"
#include "ptft/data/letterbox.h"
#include "ptft/data/sampling.h"

namespace ptft {

class DetectionSource : public DataSource {
 public:
  // UserErrors name data.yaml, the label file (and line) or data.detection.KEY, and the fix.
  DetectionSource(const std::string& data_yaml, const std::string& split, const DataContext& ctx);

  std::string describe() const override;
  int64_t size() const override { return static_cast<int64_t>(images_.size()); }
  Batch train_batch(const BatchAddress& at) override;  // thread-safe
  int64_t eval_batches(int64_t batch_size) const override;
  Batch eval_batch(int64_t index, int64_t batch_size) override;
  std::vector<std::string> class_names() const override { return names_; }

  int64_t input_size() const { return size_; }                    // S
  const std::vector<std::string>& image_paths() const { return paths_; }  // split order
  // Image i as stored: (3, h, w) uint8, longer side S, boxes (N, 4) in its pixels, labels (N).
  const DetectionImage& image(int64_t i) const;
  // How image i sits in the evaluation input: scale and offset (image left undefined), for
  // unletterbox_box (ptft/data/letterbox.h) to map boxes back to the original image.
  Letterbox letterbox_info(int64_t i) const;
  // Whether training example stream position e is in a mosaic epoch.
  bool mosaic_open(int64_t position) const;
  int64_t total_epochs() const { return total_epochs_; }  // 0 = unknown

 private:
  Batch collate(std::vector<DetectionImage> examples) const;

  std::string file_, split_;
  DataContext ctx_;
  DetectionDataConfig cfg_;
  int64_t size_ = 0;
  std::vector<std::string> names_, paths_;
  std::vector<DetectionImage> images_;
  std::vector<std::array<int64_t, 2>> orig_hw_;  // original (H, W) per image
  int64_t boxes_ = 0, negatives_ = 0, missing_labels_ = 0, listed_ = 0;
  int64_t total_epochs_ = 0;
  std::unique_ptr<EpochShuffle> order_;
  uint64_t augment_key_ = 0;
};

// Whether `spec` names detection data: an existing *.yaml / *.yml file (a data.yaml; what is
// wrong with one is read_yolo_data_yaml's error to tell).
bool is_detection_data_path(const std::string& spec);

}  // namespace ptft
