// ptft/io/checkpoint.h — the checkpoint directory and the run's set of checkpoints.
//
// A checkpoint is a directory (no pickle, no TorchScript: loading one cannot run code):
//   config.json            model architecture (HF names) + {"ptft": {family, task, ...}}
//   model.safetensors      weights (a run with train.ema: their moving average, train/ema.h)
//   training_model.safetensors  train.ema runs: the raw weights training continues from (--resume)
//   optimizer.safetensors  optimizer moments and step per parameter (training checkpoints)
//   trainer_state.json     step, epoch, samples seen, RNG state, best metric, early-stop state,
//                          EMA update count
// Every checkpoint is written into a temporary sibling directory and renamed into place, so a
// kill at any instant leaves the previous checkpoints intact.
//
// CheckpointSet manages runs/NAME/checkpoints/: step-000500/ ... plus `last` and `best`, which
// are symbolic links swapped atomically (rename of a fresh link), and keeps at most K step
// checkpoints (never the ones `last` or `best` point to).
//
//   CheckpointSet set(run_dir + "/checkpoints", /*keep=*/3);
//   set.save(step, [&](const std::string& dir) { write_checkpoint(dir, ckpt); });
//   set.mark_best(step);
//   Checkpoint c = read_ptft_checkpoint(*set.last_dir());
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ptft/io/tensor_io.h"

namespace ptft {

struct Checkpoint {
  nlohmann::json config;       // config.json
  TensorMap model;             // model.safetensors (the EMA weights when training used train.ema)
  TensorMap training_model;    // training_model.safetensors: the raw weights under EMA (empty otherwise)
  TensorMap optimizer;         // optimizer.safetensors (empty when absent)
  nlohmann::json trainer_state;  // trainer_state.json (null when absent)
  std::string dir;             // where it was read from
  // A foreign model (Hugging Face directory, bare weights) is built while it is read, its weights
  // converted into its parameters; `model` then holds those parameters and model_from_checkpoint
  // takes this module instead of building a second copy (null: build one from config + model).
  std::shared_ptr<torch::nn::Module> built;
};

// Writes the files of `c` into `dir` (an existing, empty directory).
void write_checkpoint_files(const std::string& dir, const Checkpoint& c);
// Atomically creates `dir` with the files of `c`. `dir` must not exist.
void write_checkpoint(const std::string& dir, const Checkpoint& c);
// Reads a ptft checkpoint directory (or a symlink to one). Missing or corrupt files are
// UserErrors naming the file. with_training_state=false skips optimizer.safetensors,
// training_model.safetensors and trainer_state.json. Any model path (Hugging Face directories,
// bare weights) is read by models/model_files.h's read_checkpoint.
Checkpoint read_ptft_checkpoint(const std::string& dir, bool with_training_state = true);
// True when `dir` has a config.json and a model.safetensors.
bool is_checkpoint_dir(const std::string& dir);

class CheckpointSet {
 public:
  CheckpointSet(std::string root, int keep);
  // Writes step-NNNNNN atomically via `fill(tmp_dir)` (skipped when it already exists), points
  // `last` at it and prunes. Returns the step directory.
  std::string save(int64_t step, const std::function<void(const std::string&)>& fill);
  // Points `best` at step-NNNNNN (which must exist).
  void mark_best(int64_t step);
  std::optional<std::string> last_dir() const;
  std::optional<std::string> best_dir() const;
  std::string step_dir(int64_t step) const;
  const std::string& root() const { return root_; }
  // Removes temporaries left by a killed writer.
  void clean_temporaries();

 private:
  void point(const std::string& link, const std::string& target_name);
  void prune();
  std::string root_;
  int keep_;
};

}  // namespace ptft
