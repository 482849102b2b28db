// ptft/data/data_source.h — where batches come from, for every task.
//
// Training batches are addressed, not streamed: train_batch(step, micro, B) is a pure function of
// (seed, rank, world, step, micro, B). That makes resume exact (the data position *is* the step),
// lets the prefetcher run ahead on another thread, and gives each data-parallel rank its own
// slice. Evaluation batches are sequential and cover the split once.
//
//   auto src = open_data_source(data_cfg.train, /*split=*/"train", ctx);
//   Batch b = src->train_batch({step, micro, 32, 4});  // b.data["x"], b.data["y"]; b.weight = 32
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptft/io/tensor_io.h"

namespace ptft {
class Tokenizer;
class ChatTemplate;
struct ImageDataConfig;
struct DetectionDataConfig;

struct Batch {
  TensorMap data;
  // Loss-contributing units in this batch (examples, or target tokens for language tasks):
  // the Trainer normalises the summed loss by the units of the whole effective batch.
  int64_t weight = 0;
};

// Which training micro-batch: the examples of optimizer step `step` form one stream position
// range of micro_batch * grad_accum * world_size examples, so that splitting the same effective
// batch differently (accumulation, more ranks) reads the same examples.
struct BatchAddress {
  int64_t step = 0;        // optimizer step, 0-based
  int64_t micro = 0;       // micro-batch within the step, < grad_accum
  int64_t micro_batch = 1; // examples per micro-batch on this rank
  int64_t grad_accum = 1;
};

struct DataContext {
  uint64_t seed = 1337;
  int rank = 0;        // data-parallel rank and world size: each rank reads its own slice
  int world_size = 1;
  // Tokens per training window (the model's context length) for sources that read token
  // shards; 0 = the model does not read token sequences.
  int64_t block_size = 0;
  // The model's vocabulary size; token ids in the data must be below it (0 = not checked).
  int64_t vocab_size = 0;
  // The model's tokenizer (null when unknown): token shards compare its content_hash with the
  // one they were prepared with; text sources (SFT JSONL) encode with it.
  std::shared_ptr<const Tokenizer> tokenizer;
  // How conversations are rendered (SFT JSONL); null = the built-in default.
  std::shared_ptr<const ChatTemplate> chat_template;
  // The data.images section for image data sets (ptft/data/image_config.h); null = defaults.
  std::shared_ptr<const ImageDataConfig> images;
  // Class names by class id for classification data: the training data's, passed on to the
  // val/eval data so that every split numbers its labels alike. Empty = the data's own order.
  std::vector<std::string> classes;
  // Masked-LM pre-training: token shards become masked [CLS] ... [SEP] sequences
  // (ptft/data/mlm_windows.h) when this is > 0 (the share of tokens to predict, BERT: 0.15).
  double mlm_probability = 0;
  // The data.detection section for detection data (ptft/data/detection_config.h); null = defaults.
  std::shared_ptr<const DetectionDataConfig> detection;
  // The run's length, for sources whose augmentation depends on the epoch (detection closes
  // mosaic for the last epochs): optimizer steps, and examples per step over all ranks
  // (micro_batch x grad_accum x world_size). 0 = unknown (epoch-dependent options stay on).
  int64_t total_steps = 0;
  int64_t examples_per_step = 0;
  // The model's input side for image sources that resize to it when their own size key is 0
  // (data.detection.size); set by the run from the model config. 0 = unknown.
  int64_t image_size = 0;
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual std::string describe() const = 0;
  // Examples (or windows) in one pass over this split; used for epoch accounting.
  virtual int64_t size() const = 0;
  // Deterministic training micro-batch (a pure function of the address, seed and rank).
  virtual Batch train_batch(const BatchAddress& at) = 0;
  // Sequential evaluation batches covering the split once.
  virtual int64_t eval_batches(int64_t batch_size) const = 0;
  virtual Batch eval_batch(int64_t index, int64_t batch_size) = 0;
  // Class names by class id, for classification data that names its classes; empty otherwise.
  virtual std::vector<std::string> class_names() const { return {}; }
};

// Opens `spec` (a path, or "synthetic:<name>[?key=value&...]") for `split`.
// Unknown or missing sources are UserErrors naming the spec and the config key `key`.
std::unique_ptr<DataSource> open_data_source(const std::string& spec, const std::string& split,
                                             const DataContext& ctx, const std::string& key);

}  // namespace ptft
