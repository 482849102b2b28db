#include "ptft/train/train_config.h"

#include <initializer_list>

#include "ptft/core/error.h"

namespace ptft {
namespace {
void positive(const char* key, int64_t v) {
  if (v <= 0)
    throw UserError(std::string("train.") + key + " must be > 0, got " + std::to_string(v));
}
void non_negative(const char* key, double v) {
  if (v < 0) throw UserError(std::string("train.") + key + " must be >= 0, got " + std::to_string(v));
}
}  // namespace

void TrainConfig::validate() const {
  positive("steps", steps);
  if (!(epochs >= 0) || epochs > 1e6)
    throw UserError("train.epochs must be between 0 and 1e6, got " + std::to_string(epochs),
                    "0 = count the run in train.steps; e.g. 3 = three passes over the training data");
  positive("batch_size", batch_size);
  positive("grad_accum", grad_accum);
  positive("log_every", log_every);
  if (!(lr > 0)) throw UserError("train.lr must be > 0, got " + std::to_string(lr));
  non_negative("warmup", static_cast<double>(warmup));
  non_negative("weight_decay", weight_decay);
  non_negative("grad_clip", grad_clip);
  non_negative("eval_every", static_cast<double>(eval_every));
  non_negative("profile_steps", static_cast<double>(profile_steps));
  non_negative("eval_batches", static_cast<double>(eval_batches));
  non_negative("save_every", static_cast<double>(save_every));
  non_negative("patience", static_cast<double>(patience));
  non_negative("min_delta", min_delta);
  non_negative("overfit_patience", static_cast<double>(overfit_patience));
  if (!(overfit_margin >= 0 && overfit_margin < 1))
    throw UserError("train.overfit_margin must be in [0, 1), got " + std::to_string(overfit_margin),
                    "a relative margin: 0.01 = val_loss 1% above its best counts as risen");
  if (lr_min_ratio < 0 || lr_min_ratio > 1)
    throw UserError("train.lr_min_ratio must be in [0, 1], got " + std::to_string(lr_min_ratio));
  if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1)
    throw UserError("train.beta1 and train.beta2 must be in [0, 1)");
  if (ema < 0 || ema >= 1)
    throw UserError("train.ema must be in [0, 1), got " + std::to_string(ema),
                    "0 = off; Ultralytics uses 0.9999 (with train.ema_tau 2000)");
  if (ema > 0 && !(ema_tau > 0))
    throw UserError("train.ema_tau must be > 0 when train.ema is set, got " + std::to_string(ema_tau),
                    "the EMA warm-up in optimizer steps; 2000 is usual, fewer for short runs");
  if (!(bucket_mb > 0)) throw UserError("train.bucket_mb must be > 0, got " + std::to_string(bucket_mb));
  if (!(dist_timeout > 0))
    throw UserError("train.dist_timeout must be > 0 seconds, got " + std::to_string(dist_timeout),
                    "it bounds how long a rank waits for a slow or lost peer; 1800 is PyTorch's default");
  auto one_of = [](const char* key, const std::string& v, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return;
      list += std::string(list.empty() ? "" : ", ") + a;
    }
    throw UserError(std::string("train.") + key + " must be one of " + list + "; got '" + v + "'");
  };
  one_of("schedule", schedule, {"cosine", "linear", "constant"});
  one_of("optimizer", optimizer, {"adamw", "sgd"});
  one_of("mode", mode, {"auto", "min", "max"});
  one_of("precision", precision, {"auto", "fp32", "bf16"});
  if (metric.rfind("val_", 0) != 0 && metric.rfind("train_", 0) != 0)
    throw UserError("train.metric must start with val_ (or train_), got '" + metric + "'",
                    "e.g. val_loss or val_accuracy");
}

std::string TrainConfig::resolved_mode() const {
  if (mode != "auto") return mode;
  for (const char* up : {"acc", "f1", "map", "precision", "recall"})
    if (metric.find(up) != std::string::npos) return "max";
  return "min";
}

}  // namespace ptft
