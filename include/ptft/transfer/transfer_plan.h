// ptft/transfer/transfer_plan.h — how fine-tuning starts from a checkpoint: what trains, at
// which learning rate, from which step.
//
//   finetune:
//     from: runs/pre/checkpoints/best
//     strategy: full | freeze | head | lora | auto
//     freeze_layers: 2          # freeze (and full): embeddings + the first N blocks stay fixed
//     freeze: ["*.ln_1.*"]      # extra parameter-name globs kept fixed
//     lora: {r: 8, alpha: 16, dropout: 0.0, targets: [c_attn, c_proj]}   # strategy lora
//     layer_lr_decay: 0.8       # head x1, top block x0.8, next x0.64 ... embeddings x0.8^(L+1)
//     backbone_lr: 0.1          # everything below the head at 0.1 x lr (times layer_lr_decay)
//     unfreeze_every: 100       # gradual unfreezing: head first, one more block (top down)
//                               # every 100 steps, embeddings last
//     unfreeze_after: 500       # strategy head/freeze: what the strategy froze trains from
//                               # step 501 on, at backbone_lr (x layer_lr_decay); the
//                               # `freeze` globs stay frozen. Not with full, lora, unfreeze_every
//     replay: {data: data/shards/general, fraction: 0.1}   # general windows mixed into batches
//     general_val: ""           # forgetting watch: "" = the checkpoint's pre-training val data,
//                               # "none" = off, or a path
//     auto: {candidates: [head, freeze, lora, full], trial_steps: 0}   # strategy auto: a short
//                               # trial of each, the best by train.metric continued
//                               # (run/strategy_search.h)
//
// A parameter's place (embedding, block i, head) comes from ModelImpl::param_place, so the
// plan works for every family. With a tied head (GPT's wte), "head" trains the tied embedding.
// Classifiers (BERT with a class head) also train their head under strategy lora, as PEFT's
// modules_to_save does: a fresh head must learn, and it is a tiny share of the parameters.
// Both unfreezing schedules are stages of one mechanism: every parameter that ever trains is in
// the optimizer from step 1 (frozen ones get no gradient, so no update and no weight decay),
// and before_step() switches requires_grad at stage changes, also when a run resumes mid-way.
//
//   TransferPlan plan = TransferPlan::apply(*model, cfg.finetune, doc);
//   auto groups = plan.param_groups(*model, weight_decay);   // every parameter that ever trains
//   plan.before_step(*model, step);                          // gradual unfreezing / unfreeze_after
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ptft/models/model.h"
#include "ptft/train/optimizer.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace config {
class Document;
}

struct ReplayConfig {
  std::string data;       // token shard directory of the general corpus
  double fraction = 0.0;  // share of each training batch drawn from it
  template <class V> void visit(V& v) {
    v("data", data, "general-corpus token shards mixed into fine-tuning batches");
    v("fraction", fraction, "share of each batch from the replay data (0 = off)");
  }
};

// strategy auto (run/strategy_search.h): which strategies are tried, and for how long.
struct AutoStrategyConfig {
  std::vector<std::string> candidates = {"head", "freeze", "lora", "full"};
  int64_t trial_steps = 0;  // steps per trial; 0 = 10 % of train.steps (at least 1)
  // train.lr multipliers of the candidates that train few parameters, which want a larger LR than
  // full fine-tuning (measured here: a linear probe best at 10x, LoRA at 3-10x; docs/results.md).
  double head_lr_scale = 10.0;
  double lora_lr_scale = 3.0;
  template <class V> void visit(V& v) {
    v("candidates", candidates, "strategy auto: the strategies tried (head, freeze, lora, full)");
    v("trial_steps", trial_steps,
      "strategy auto: steps per trial (of the full train.steps schedule); 0 = 10 % of train.steps");
    v("head_lr_scale", head_lr_scale, "strategy auto: the head candidate trains at train.lr x this");
    v("lora_lr_scale", lora_lr_scale, "strategy auto: the lora candidate trains at train.lr x this");
  }
  void validate() const;  // known, distinct candidates; trial_steps >= 0
};

struct TransferConfig {
  std::string from;                 // checkpoint to start from (ptft finetune --from)
  std::string strategy = "full";
  int64_t freeze_layers = 0;
  std::vector<std::string> freeze;  // parameter-name globs kept frozen
  LoraConfig lora;
  double layer_lr_decay = 1.0;
  double backbone_lr = 1.0;         // LR multiplier of everything below the head
  int64_t unfreeze_every = 0;
  int64_t unfreeze_after = 0;       // steps; 0 = off
  ReplayConfig replay;
  std::string general_val;
  AutoStrategyConfig auto_search;   // strategy auto
  template <class V> void visit(V& v) {
    v("from", from, "checkpoint (or Hugging Face directory) to start from");
    v.choice("strategy", strategy, {"full", "freeze", "head", "lora", "auto"},
             "what trains: everything, all but embeddings + first freeze_layers blocks, the head, LoRA adapters; "
             "auto = try finetune.auto.candidates briefly and continue the best");
    v("freeze_layers", freeze_layers, "embeddings + this many first blocks stay frozen (strategy freeze/full)");
    v("freeze", freeze, "extra parameter-name globs kept frozen");
    v("lora", lora, "LoRA adapters (strategy lora)");
    v("layer_lr_decay", layer_lr_decay, "LR multiplier per block below the head (1 = off)");
    v("backbone_lr", backbone_lr, "LR multiplier of everything but the head (1 = off; e.g. 0.1 for a pre-trained backbone)");
    v("unfreeze_every", unfreeze_every, "gradual unfreezing: one more block every N steps (0 = off)");
    v("unfreeze_after", unfreeze_after,
      "strategy head/freeze: what the strategy froze trains from step N+1, at backbone_lr (0 = off)");
    v("replay", replay, "general data mixed into fine-tuning batches");
    v("general_val", general_val, "general validation data to watch forgetting; \"\" = from the checkpoint, none = off");
    v("auto", auto_search, "strategy auto: candidates and trial length");
  }
  void validate() const;
};

class TransferPlan {
 public:
  // Attaches LoRA adapters and freezes per `cfg` on a model freshly loaded from a checkpoint.
  // UserErrors name the config key (`doc` gives its origin) and list what could match.
  static TransferPlan apply(ModelImpl& model, const TransferConfig& cfg, const config::Document& doc);

  // Optimizer groups over every parameter that trains at some step (LR multipliers included);
  // leaves requires_grad as of step 0.
  std::vector<ParamGroup> param_groups(ModelImpl& model, double weight_decay);
  // Gradual unfreezing / unfreeze_after: sets requires_grad for the stage of 1-based step
  // `step`. Returns a message when the trainable set changed (else empty).
  std::string before_step(ModelImpl& model, int64_t step);
  // The stage of 1-based step `step`: unfreeze_every: (step - 1) / unfreeze_every;
  // unfreeze_after: 0 up to step unfreeze_after, 1 after; else 0.
  int64_t stage_at(int64_t step) const;

  std::string describe() const;      // one human line
  nlohmann::json to_json() const;    // for the run's start event
  bool uses_lora() const { return lora_.has_value(); }
  const std::optional<LoraConfig>& lora() const { return lora_; }

 private:
  struct Entry {
    std::string name;
    bool trains = false;   // ever (strategy + freeze patterns)
    int64_t stage = 0;     // unfreezing stage it trains from (0: from the start)
    double lr_mult = 1.0;
  };
  std::vector<Entry> entries_;
  TransferConfig cfg_;
  std::optional<LoraConfig> lora_;
  std::vector<std::string> lora_modules_;
  int64_t current_stage_ = -1;
  int64_t num_blocks_ = 0;
};

}  // namespace ptft
