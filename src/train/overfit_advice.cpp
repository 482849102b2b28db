#include "ptft/train/overfit_advice.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ptft/core/config.h"

namespace ptft {
namespace {

std::string num(double v) { return config::format_number(v); }  // config values, as --help-config shows them
std::string num(int64_t v) { return std::to_string(v); }
std::string printf_number(const char* format, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// v rounded to one significant digit (3e-4 / 3 -> 1e-4, 1e-2 / 3 -> 3e-3).
double one_digit(double v) {
  if (!(v > 0)) return v;
  const double scale = std::pow(10.0, std::floor(std::log10(v)));
  return std::round(v / scale) * scale;
}

// "key=suggested (now current)" for each entry whose current value is below the suggestion.
struct Suggestion {
  std::string key;
  double now, suggested;
  bool integer = false;  // an integer key: 4, not 4.0 (which --set would reject)
};
std::string raise_below(const std::vector<Suggestion>& list) {
  std::string s;
  for (const auto& e : list) {
    auto text = [&](double v) { return e.integer ? num(static_cast<int64_t>(v)) : num(v); };
    if (e.now < e.suggested) s += (s.empty() ? "" : ", ") + e.key + "=" + text(e.suggested) + " (now " + text(e.now) + ")";
  }
  return s;
}

std::string stop_advice(const OverfitAlarm& a, const OverfitContext& run, const TrainConfig& t, const OverfitState& st) {
  std::string s = "the lowest val_loss (" + printf_number("%.4g", a.best_val_loss) + ") was at step " + num(a.best_step);
  if (run.finetune && a.best_step == 0) s += ", before fine-tuning: so far it has only made val_loss worse";
  if (st.best_step >= 0)
    s += "; " + st.checkpoints + "/best holds step " + num(st.best_step) +
         (t.metric == "val_loss" ? "" : " (best by " + t.metric + ")");
  if (t.patience == 0)
    return s + ": early stopping is off; set train.patience (e.g. " + num(std::max<int64_t>(t.overfit_patience, 3)) +
           ") to stop when " + t.metric + " stops improving";
  return s + "; early stopping (train.patience " + num(t.patience) + ") ends the run after " + num(t.patience) +
         " evaluations without a better " + t.metric;
}

std::string capacity_advice(const OverfitContext& run, const OverfitAlarm& a, const OverfitState& st) {
  std::string on = run.train_examples > 0 ? " on " + num(run.train_examples) + " examples" : "";
  if (run.train_examples > 0 && st.examples_per_step > 0) {
    const double passes = static_cast<double>(a.step) * st.examples_per_step / run.train_examples;
    on += " (" + printf_number(passes >= 10 ? "%.0f" : "%.2g", passes) + " passes so far)";
  }
  const std::string trains =
      num(run.trainable_parameters) + (run.parameters > 0 ? " of " + num(run.parameters) : "") + " parameters" + on;
  if (!run.finetune)
    return "pre-training trains " + trains + ": a smaller model (fewer or narrower layers in model.*), more data, or "
           "more regularisation (below)";
  const TransferConfig& f = *run.finetune;
  if (f.strategy == "full")
    return "fine-tuning with strategy full trains " + trains +
           ": freeze more (finetune.strategy=freeze, finetune.freeze_layers=N keeps the embeddings and the first N "
           "blocks fixed; now " + num(f.freeze_layers) + ") or use LoRA (finetune.strategy=lora)";
  if (f.strategy == "freeze")
    return "strategy freeze still trains " + trains + ": freeze more blocks (finetune.freeze_layers=" +
           num(f.freeze_layers + 1) + " or more; now " + num(f.freeze_layers) +
           "), train only the head (finetune.strategy=head) or use LoRA (finetune.strategy=lora)";
  if (f.strategy == "lora") {
    std::string s = "LoRA trains " + trains + ": ";
    if (f.lora.r >= 2) s += "a smaller rank (finetune.lora.r=" + num(f.lora.r / 2) + "; now " + num(f.lora.r) + "), ";
    if (f.lora.dropout < 0.1) s += "adapter dropout (finetune.lora.dropout=0.1; now " + num(f.lora.dropout) + "), ";
    return s + "or train only the head (finetune.strategy=head)";
  }
  return "only the head trains (" + trains + "): there is nothing left to freeze; lower the learning rate, "
         "regularise or add data (below)";
}

std::string lr_advice(const OverfitContext& run, const TrainConfig& t) {
  std::string s = "lower train.lr (now " + num(t.lr) + "), e.g. " + num(one_digit(t.lr / 3));
  if (run.finetune && run.finetune->backbone_lr >= 1.0 && run.finetune->strategy != "head" &&
      run.finetune->strategy != "lora")
    s += ", or only the pre-trained layers' (finetune.backbone_lr=0.1)";
  return s;
}

std::string regularisation_advice(const OverfitContext& run, const TrainConfig& t) {
  std::vector<Suggestion> list = {{"train.weight_decay", t.weight_decay, t.optimizer == "sgd" ? 5e-4 : 0.1}};
  for (const auto& [key, value] : run.dropout)
    if (value >= 0) list.push_back({key, value, 0.1});  // (< 0: "as another key", BERT's classifier_dropout)
  const std::string s = raise_below(list);
  return s.empty() ? "" : "more regularisation: " + s;
}

std::string data_advice(const OverfitContext& run) {
  const std::string more = "more training data" + (run.train_examples > 0 ? " (now " + num(run.train_examples) + " examples)" : std::string());
  if (run.image_augment) {
    const AugmentConfig& g = *run.image_augment;
    const std::string s = raise_below({{"data.images.augment.hflip", g.hflip, 0.5},
                                       {"data.images.augment.pad_crop", static_cast<double>(g.pad_crop), 4, true},
                                       {"data.images.augment.jitter", g.jitter, 0.4},
                                       {"data.images.augment.erasing", g.erasing, 0.25}});
    const std::string crop = g.resized_crop[0] >= 1.0 ? "data.images.augment.resized_crop=[0.35, 1.0] (now off)" : "";
    if (s.empty() && crop.empty()) return more + ", or stronger augmentation (raise data.images.augment.*)";
    return more + ", or stronger augmentation: " + s + (s.empty() || crop.empty() ? "" : ", ") + crop;
  }
  if (run.detection) {
    const DetectionDataConfig& d = *run.detection;
    const std::string s = raise_below({{"data.detection.mosaic", d.mosaic, 1.0},
                                       {"data.detection.fliplr", d.fliplr, 0.5},
                                       {"data.detection.scale", d.scale, 0.5},
                                       {"data.detection.translate", d.translate, 0.1},
                                       {"data.detection.hsv_s", d.hsv_s, 0.7},
                                       {"data.detection.hsv_v", d.hsv_v, 0.4}});
    if (s.empty())
      return more + ", or stronger augmentation (data.detection.scale, translate, mosaic are at Ultralytics' "
             "defaults or above; raise them, or lower data.detection.close_mosaic)";
    return more + ", or stronger augmentation: " + s;
  }
  return more;
}

}  // namespace

std::vector<std::string> overfit_advice(const OverfitAlarm& alarm, const OverfitContext& run, const TrainConfig& train,
                                        const OverfitState& state) {
  std::vector<std::string> out = {stop_advice(alarm, run, train, state), capacity_advice(run, alarm, state),
                                  lr_advice(run, train)};
  if (std::string s = regularisation_advice(run, train); !s.empty()) out.push_back(s);
  out.push_back(data_advice(run));
  return out;
}

}  // namespace ptft
