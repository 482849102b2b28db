// ptft/data/image_source.h — image classification data: IDX files, class folders, CSV lists.
//
// data.train / data.val name one of (docs/formats.md, "Image data"):
//   *-images-idx3-ubyte[.gz]  IDX images (N, H, W); labels from the matching *-labels-idx1-ubyte[.gz]
//   DIR/                      one sub-folder per class (name = class), images inside (any depth)
//   *.csv                     rows `path,label` (optional header row `path,label`); paths
//                             relative to the CSV's folder; labels all integers, or names
// and the `data.images` section (ptft/data/image_config.h) says what to keep and how to shape it.
//
// Which examples a split holds: classes outside data.images.classes are dropped; then, when
// val_fraction > 0, an example belongs to the held-out val share when a fixed hash of its key
// (IDX: its index; folders and CSVs: its path as listed) is below val_fraction — the same for
// every seed and run. split "train" = the rest (cut to per_class examples per class by a
// permutation from ctx.seed when per_class > 0); split "val" = the held-out share (the whole
// file when val_fraction = 0); any other split ("test") = every example of the kept classes.
//
// The whole split is decoded at open (folders/CSVs in parallel, every image checked; unreadable
// ones are errors naming the file, or skipped and counted with skip_corrupt) into memory as
// uint8 at the model's size (resize + centre crop: ptft/data/image_preprocess.h). Batches:
//   data["x"]  (B, C, size, size) float, normalised (training batches augmented)
//   data["y"]  (B) int64 class ids;  weight = B
// Training example e of the BatchAddress stream (ptft/data/sampling.h) is example
// perm_epoch[e % n] (a fresh permutation per epoch from the seed); its augmentation draws come
// from (seed, e). Evaluation batches go through the split in order, the last one partial.
//
//   DataContext ctx;  ctx.images = std::make_shared<ImageDataConfig>(cfg);
//   auto src = open_image_source("data/fmnist/train-images-idx3-ubyte.gz", "train", ctx);
//   Batch b = src->train_batch({step, micro, 256, 1});
//   src->class_names();   // {"T-shirt/top", ...} when data.images.class_names names them
//   src->preprocess();    // {size, channels, mean, std}: store it with the checkpoint
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ptft/data/data_source.h"
#include "ptft/data/image_config.h"
#include "ptft/data/image_preprocess.h"
#include "ptft/data/sampling.h"

namespace ptft {

class ImageSource : public DataSource {
 public:
  // UserErrors name the spec and what is wrong (and data.images.KEY for config mistakes).
  ImageSource(const std::string& spec, const std::string& split, const DataContext& ctx);

  std::string describe() const override;
  int64_t size() const override { return static_cast<int64_t>(keys_.size()); }
  Batch train_batch(const BatchAddress& at) override;  // thread-safe
  int64_t eval_batches(int64_t batch_size) const override;
  Batch eval_batch(int64_t index, int64_t batch_size) override;
  std::vector<std::string> class_names() const override { return class_names_; }

  // The eval transform of this data (resolved size, channels, mean, std).
  const ImagePreprocess& preprocess() const { return pre_; }
  // Each example's key, in split order: IDX "#<index>", folders/CSV the path as listed.
  const std::vector<std::string>& example_keys() const { return keys_; }
  // Examples per class id in this split.
  std::vector<int64_t> class_counts() const;
  int64_t skipped() const { return skipped_; }  // unreadable images skipped (skip_corrupt)

 private:
  Batch make_batch(const torch::Tensor& index, const std::vector<uint64_t>* augment_keys) const;

  std::string spec_, split_, kind_;
  DataContext ctx_;
  ImageDataConfig cfg_;
  ImagePreprocess pre_;
  std::vector<std::string> class_names_;
  std::vector<std::string> keys_;
  torch::Tensor images_;  // (N, Cs, S, S) uint8, Cs = pre_.channels or 1 (grey data, expanded per batch)
  torch::Tensor labels_;  // (N) int64
  int64_t file_examples_ = 0, held_out_ = 0, cut_ = 0, skipped_ = 0, ignored_files_ = 0;
  std::string native_shape_;  // "1x28x28", or "mixed sizes"
  std::vector<std::string> skipped_files_;
  std::unique_ptr<EpochShuffle> order_;
  uint64_t augment_key_ = 0;
};

// Whether `spec` names image data by its name or content: an IDX images file, a *.csv file, or
// a directory (a token shard directory is recognised before; see open_data_source).
bool is_image_data_path(const std::string& spec);
std::unique_ptr<ImageSource> open_image_source(const std::string& spec, const std::string& split,
                                               const DataContext& ctx);

}  // namespace ptft
