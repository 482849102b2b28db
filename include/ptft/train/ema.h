// ptft/train/ema.h — exponential moving average of a model's weights (Ultralytics' ModelEMA).
//
// After every optimizer step, update() counts it and blends the model into the average:
//   d = decay * (1 - exp(-updates / tau))     // ramps up: early averages forget the random init
//   ema_v = d * ema_v + (1 - d) * v           // every floating-point parameter and buffer
// Integer buffers (BatchNorm's num_batches_tracked) are copied. The average is what evaluation,
// `best` and every checkpoint's model.safetensors use; training itself continues on the raw
// weights, which EmaSwap puts back.
//
//   ModelEma ema(model, /*decay=*/0.9999, /*tau=*/2000);   // starts as a copy of the model
//   opt.step(lr);  ema.update(model);
//   { EmaSwap in(ema, model); evaluate(model); }          // the average in, the raw weights back
//   save_tensors(dir + "/model.safetensors", ema.state());
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "ptft/io/tensor_io.h"

namespace ptft {

class ModelEma {
 public:
  // A copy of `model`'s parameters and buffers (on the model's device), 0 updates.
  ModelEma(const torch::nn::Module& model, double decay, double tau);

  // One optimizer step done: updates() + 1, then the blend above.
  void update(const torch::nn::Module& model);
  // The blend factor of the last update (0 before the first).
  double current_decay() const { return decay_at(updates_); }
  double decay_at(int64_t updates) const;
  int64_t updates() const { return updates_; }
  double decay() const { return decay_; }
  double tau() const { return tau_; }

  // The averaged tensors by state-dict name (what a checkpoint stores).
  const TensorMap& state() const { return ema_; }
  // Restores a saved average: the same names and shapes as the model's state dict (a UserError
  // naming `source` otherwise) and the update count it had.
  void load(const TensorMap& saved, int64_t updates, const std::string& source);
  // Copies the average into `model`'s parameters and buffers.
  void copy_into(torch::nn::Module& model) const;

 private:
  TensorMap ema_;
  double decay_;
  double tau_;
  int64_t updates_ = 0;
};

// Scope with the average in the model: the raw weights are saved on entry and copied back on
// exit (also when the scope is left by an exception), bit for bit.
class EmaSwap {
 public:
  EmaSwap(const ModelEma& ema, torch::nn::Module& model);
  ~EmaSwap();
  EmaSwap(const EmaSwap&) = delete;
  EmaSwap& operator=(const EmaSwap&) = delete;

 private:
  torch::nn::Module& model_;
  TensorMap raw_;
};

}  // namespace ptft
