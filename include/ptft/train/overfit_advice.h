// ptft/train/overfit_advice.h — what to do about an overfitting alarm (train/overfit_watch.h),
// in terms of this run's own config keys and values.
//
// The Trainer does not know what the run trains; the run describes it in an OverfitContext
// (TrainerContext::overfit) and the Trainer adds where training stands. One line per remedy,
// most direct first:
//   stop at the best checkpoint / early stopping (train.patience)
//   train fewer parameters: by strategy — pre-training: a smaller model; full: freeze or LoRA;
//     freeze: more frozen blocks, head or LoRA; lora: a smaller rank, adapter dropout; head: nothing left
//   a lower learning rate (finetune.backbone_lr for pre-trained layers)
//   regularisation: train.weight_decay, the model's dropout keys (pre-training only: a
//     fine-tune keeps the checkpoint's architecture)
//   more data, or stronger augmentation: the data.images.augment / data.detection keys that are
//     off or below the usual values
//
//   OverfitContext run;  run.finetune = cfg.finetune;  run.trainable_parameters = ...;
//   std::vector<std::string> lines = overfit_advice(alarm, run, cfg.train, state);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptft/data/detection_config.h"
#include "ptft/data/image_config.h"
#include "ptft/train/overfit_watch.h"
#include "ptft/train/train_config.h"
#include "ptft/transfer/transfer_plan.h"

namespace ptft {

// What the run trains, on what (filled by the run; the defaults stand for "unknown").
struct OverfitContext {
  std::optional<TransferConfig> finetune;        // the finetune section; nullopt = pre-training
  int64_t parameters = 0;                        // all of the model's; 0 = unknown
  int64_t trainable_parameters = 0;
  int64_t train_examples = 0;                    // examples (or windows) in data.train; 0 = unknown
  std::optional<AugmentConfig> image_augment;    // image classification data: data.images.augment
  std::optional<DetectionDataConfig> detection;  // object-detection data: data.detection
  // Pre-training: the model's dropout keys and values ({"model.dropout", 0.0}).
  std::vector<std::pair<std::string, double>> dropout;
};

// Where training stands when the alarm fires (filled by the Trainer).
struct OverfitState {
  int64_t examples_per_step = 0;  // all ranks
  int64_t best_step = -1;         // of checkpoints/best (by train.metric); -1 = none
  std::string checkpoints;        // run_dir/checkpoints
};

std::vector<std::string> overfit_advice(const OverfitAlarm& alarm, const OverfitContext& run, const TrainConfig& train,
                                        const OverfitState& state);

}  // namespace ptft
