#include "ptft/core/foreign_keys.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace ptft {
namespace {

constexpr const char* kHf = "Hugging Face Trainer";
constexpr const char* kPeft = "PEFT";
constexpr const char* kUl = "Ultralytics";

const ForeignKey kKeys[] = {
    {"learning_rate", "train.lr", kHf, ""},
    {"lr0", "train.lr", kUl, ""},
    {"lrf", "train.lr_min_ratio", kUl, ""},
    {"max_steps", "train.steps", kHf, ""},
    {"num_train_epochs", "train.epochs", kHf, "or train.steps in optimizer steps"},
    {"epochs", "train.epochs", kUl, "or train.steps in optimizer steps"},
    {"per_device_train_batch_size", "train.batch_size", kHf, "per process, as in the Trainer"},
    {"batch_size", "train.batch_size", kHf, ""},
    {"batch", "train.batch_size", kUl, ""},
    {"gradient_accumulation_steps", "train.grad_accum", kHf, ""},
    {"warmup_steps", "train.warmup", kHf, ""},
    {"max_grad_norm", "train.grad_clip", kHf, ""},
    {"lr_scheduler_type", "train.schedule", kHf, "cosine, linear or constant"},
    {"logging_steps", "train.log_every", kHf, ""},
    {"eval_steps", "train.eval_every", kHf, ""},
    {"save_steps", "train.save_every", kHf, ""},
    {"save_total_limit", "train.keep_checkpoints", kHf, ""},
    {"metric_for_best_model", "train.metric", kHf, "with the val_ prefix, e.g. val_accuracy"},
    {"early_stopping_patience", "train.patience", kHf, ""},
    {"optim", "train.optimizer", kHf, "adamw or sgd"},
    {"bf16", "train.precision", kHf, "train.precision: bf16"},
    {"lora_r", "finetune.lora.r", kPeft, "with finetune.strategy: lora"},
    {"lora_alpha", "finetune.lora.alpha", kPeft, "with finetune.strategy: lora"},
    {"lora_dropout", "finetune.lora.dropout", kPeft, "with finetune.strategy: lora"},
    {"target_modules", "finetune.lora.targets", kPeft, "with finetune.strategy: lora"},
    {"imgsz", "data.images.size", kUl, "data.detection.size for a detector"},
    {"close_mosaic", "data.detection.close_mosaic", kUl, ""},
    {"mosaic", "data.detection.mosaic", kUl, ""},
    {"fliplr", "data.detection.fliplr", kUl, ""},
};

std::string normalised(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const ForeignKey* foreign_key(const std::string& name) {
  const std::string n = normalised(name);
  const auto it = std::find_if(std::begin(kKeys), std::end(kKeys), [&](const ForeignKey& f) { return n == f.name; });
  return it == std::end(kKeys) ? nullptr : &*it;
}

std::string foreign_key_hint(const ForeignKey& f) {
  return "'" + std::string(f.name) + "' is " + f.tool + "'s name: ptft's key is '" + f.key + "'" +
         (*f.note ? std::string(" (") + f.note + ")" : std::string());
}

}  // namespace ptft
