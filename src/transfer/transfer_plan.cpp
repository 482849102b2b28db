#include "ptft/transfer/transfer_plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

// "transformer.h.3.attn.c_attn.lora_A.weight" -> "transformer.h.3.attn.c_attn.weight": an
// adapter sits where the projection it adapts sits.
std::string base_param_name(const std::string& name) {
  for (const char* part : {".lora_A.", ".lora_B."}) {
    auto pos = name.find(part);
    if (pos != std::string::npos) return name.substr(0, pos) + ".weight";
  }
  return name;
}

bool is_adapter(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

// Depth below the head: head 0, block i of L: L - i, embeddings L + 1.
int64_t depth(const ParamPlace& p, int64_t num_blocks) {
  switch (p.kind) {
    case ParamPlace::kHead: return 0;
    case ParamPlace::kBlock: return num_blocks - p.block;
    case ParamPlace::kEmbedding: return num_blocks + 1;
  }
  return 0;
}

std::string fmt_count(int64_t n) {
  char buf[32];
  if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1000) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

}  // namespace

void AutoStrategyConfig::validate() const {
  const std::vector<std::string> known = {"head", "freeze", "lora", "full"};
  if (candidates.empty())
    throw UserError("finetune.auto.candidates is empty", "list some of: head, freeze, lora, full (the default is all four)");
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (std::find(known.begin(), known.end(), candidates[i]) == known.end())
      throw UserError("finetune.auto.candidates: unknown strategy '" + candidates[i] + "'",
                      "the candidates are strategies: head, freeze, lora, full");
    if (std::find(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(i), candidates[i]) !=
        candidates.begin() + static_cast<std::ptrdiff_t>(i))
      throw UserError("finetune.auto.candidates lists '" + candidates[i] + "' twice", "list each strategy once");
  }
  if (!(head_lr_scale > 0) || !(lora_lr_scale > 0))
    throw UserError("finetune.auto.head_lr_scale and lora_lr_scale must be > 0",
                    "they multiply train.lr for those candidates; 1 = the same LR as the others");
  if (trial_steps < 0)
    throw UserError("finetune.auto.trial_steps must be >= 0, got " + std::to_string(trial_steps),
                    "0 = 10 % of train.steps");
}

void TransferConfig::validate() const {
  if (freeze_layers < 0) throw UserError("finetune.freeze_layers must be >= 0, got " + std::to_string(freeze_layers));
  if (layer_lr_decay <= 0 || layer_lr_decay > 1)
    throw UserError("finetune.layer_lr_decay must be in (0, 1], got " + std::to_string(layer_lr_decay),
                    "1 = the same LR everywhere; 0.7-0.95 are usual");
  if (backbone_lr <= 0 || backbone_lr > 1)
    throw UserError("finetune.backbone_lr must be in (0, 1], got " + std::to_string(backbone_lr),
                    "the LR multiplier of the pre-trained layers below the head; 0.1 is usual, 1 = off");
  if (unfreeze_every < 0) throw UserError("finetune.unfreeze_every must be >= 0");
  if (unfreeze_after < 0)
    throw UserError("finetune.unfreeze_after must be >= 0, got " + std::to_string(unfreeze_after),
                    "the number of steps before the frozen parameters start training; 0 = off");
  if (unfreeze_after > 0 && (strategy == "full" || strategy == "lora"))
    throw UserError("finetune.unfreeze_after is " + std::to_string(unfreeze_after) + " but finetune.strategy is " +
                        strategy + ", which has nothing to unfreeze",
                    "use strategy head (the head first, then everything) or freeze (with freeze_layers), or "
                    "remove finetune.unfreeze_after");
  if (strategy == "auto" && (unfreeze_after > 0 || unfreeze_every > 0))
    throw UserError("finetune.strategy auto cannot be combined with finetune.unfreeze_after / unfreeze_every",
                    "the candidates full and lora have nothing to unfreeze: choose a strategy yourself to unfreeze "
                    "gradually, or remove the unfreezing keys");
  if (unfreeze_after > 0 && unfreeze_every > 0)
    throw UserError("finetune.unfreeze_after and finetune.unfreeze_every are both set (" +
                        std::to_string(unfreeze_after) + ", " + std::to_string(unfreeze_every) + ")",
                    "choose one: unfreeze_after N unfreezes everything at once after N steps, unfreeze_every K "
                    "one block every K steps");
  if (replay.fraction < 0 || replay.fraction >= 1)
    throw UserError("finetune.replay.fraction must be in [0, 1), got " + std::to_string(replay.fraction));
  if (replay.fraction > 0 && replay.data.empty())
    throw UserError("finetune.replay.fraction is " + std::to_string(replay.fraction) + " but finetune.replay.data is not set",
                    "set finetune.replay.data to the general corpus' token shards (ptft data prepare)");
  if (strategy == "lora" && freeze_layers > 0)
    throw UserError("finetune.freeze_layers has no meaning with strategy lora (only the adapters train)",
                    "remove finetune.freeze_layers, or use strategy freeze");
  if (strategy == "head" && freeze_layers > 0)
    throw UserError("finetune.freeze_layers has no meaning with strategy head (only the head trains)",
                    "remove finetune.freeze_layers, or use strategy freeze");
  if (strategy == "freeze" && freeze_layers == 0)
    throw UserError("finetune.strategy freeze needs finetune.freeze_layers > 0",
                    "set e.g. --set finetune.freeze_layers=2 (embeddings and the first 2 blocks stay fixed)");
}

TransferPlan TransferPlan::apply(ModelImpl& model, const TransferConfig& cfg, const config::Document& doc) {
  cfg.validate();
  PTFT_CHECK(cfg.strategy != "auto", "strategy auto reached TransferPlan::apply (run_training delegates it)");
  TransferPlan plan;
  plan.cfg_ = cfg;
  plan.num_blocks_ = model.num_blocks();
  const int64_t L = plan.num_blocks_;
  if (cfg.freeze_layers > L)
    throw UserError(doc.origin_of("finetune.freeze_layers") + ": finetune.freeze_layers is " +
                        std::to_string(cfg.freeze_layers) + " but the " + model.family() + " model has " +
                        std::to_string(L) + " blocks",
                    "use at most " + std::to_string(L));
  if ((cfg.freeze_layers > 0 || cfg.unfreeze_every > 0 || cfg.layer_lr_decay != 1.0) && L == 0)
    throw UserError("finetune: freeze_layers, unfreeze_every and layer_lr_decay need a model with blocks; the " +
                        model.family() + " model reports none",
                    "use finetune.freeze patterns instead");
  if (cfg.strategy == "lora") {
    plan.lora_ = cfg.lora;
    plan.lora_modules_ = attach_lora(model, cfg.lora, doc.origin_of("finetune.lora.targets") + ": finetune.lora.targets");
  }

  const bool classifier = !model.class_names().empty();
  std::vector<int> glob_hits(cfg.freeze.size(), 0);
  for (auto& np : model.named_parameters(true)) {
    Entry e;
    e.name = np.key();
    const ParamPlace place = model.param_place(base_param_name(e.name));
    bool strategy_frozen = false;  // frozen by the strategy (unfreeze_after lifts it), not by a glob
    if (cfg.strategy == "lora") {
      // A classifier's head trains with its adapters (PEFT's modules_to_save): a new head is
      // random, and the pooled features it reads shift as the adapters learn.
      e.trains = is_adapter(e.name) || (classifier && place.kind == ParamPlace::kHead);
    } else if (cfg.strategy == "head") {
      e.trains = place.kind == ParamPlace::kHead || place.tied_head;
      strategy_frozen = !e.trains;
    } else {  // full, freeze
      const bool frozen_low = cfg.freeze_layers > 0 && (place.kind == ParamPlace::kEmbedding ||
                                                        (place.kind == ParamPlace::kBlock && place.block < cfg.freeze_layers));
      e.trains = !frozen_low;
      strategy_frozen = frozen_low;
    }
    const int64_t d = depth(place, L);
    e.stage = cfg.unfreeze_every > 0 ? d : 0;
    if (cfg.unfreeze_after > 0 && strategy_frozen) {
      e.trains = true;  // from stage 1: step unfreeze_after + 1
      e.stage = 1;
    }
    for (size_t i = 0; i < cfg.freeze.size(); ++i)
      if (::fnmatch(cfg.freeze[i].c_str(), e.name.c_str(), 0) == 0) {
        e.trains = false;
        ++glob_hits[i];
      }
    e.lr_mult = std::pow(cfg.layer_lr_decay, static_cast<double>(d)) *
                (place.kind == ParamPlace::kHead || place.tied_head ? 1.0 : cfg.backbone_lr);
    plan.entries_.push_back(e);
  }
  for (size_t i = 0; i < cfg.freeze.size(); ++i)
    if (glob_hits[i] == 0) {
      std::string names;
      int shown = 0;
      for (const auto& e : plan.entries_)
        if (shown++ < 8) names += e.name + " ";
      throw UserError(doc.origin_of("finetune.freeze") + ": finetune.freeze pattern '" + cfg.freeze[i] +
                          "' matches no parameter",
                      "parameter names look like: " + names);
    }
  bool any = false;
  for (const auto& e : plan.entries_) any = any || e.trains;
  if (!any)
    throw UserError("finetune: nothing would train (strategy " + cfg.strategy + " with the freeze settings given)",
                    "freeze fewer parameters");
  return plan;
}

std::vector<ParamGroup> TransferPlan::param_groups(ModelImpl& model, double weight_decay) {
  std::map<std::string, const Entry*> by_name;
  for (const auto& e : entries_) by_name[e.name] = &e;
  for (auto& np : model.named_parameters(true)) np.value().set_requires_grad(by_name.at(np.key())->trains);
  auto groups = default_param_groups(model, weight_decay, [&](const std::string& n) { return by_name.at(n)->lr_mult; });
  current_stage_ = -1;
  before_step(model, 1);
  return groups;
}

int64_t TransferPlan::stage_at(int64_t step) const {
  if (cfg_.unfreeze_every > 0) return (step - 1) / cfg_.unfreeze_every;
  if (cfg_.unfreeze_after > 0) return step > cfg_.unfreeze_after ? 1 : 0;
  return 0;
}

std::string TransferPlan::before_step(ModelImpl& model, int64_t step) {
  const int64_t stage = stage_at(step);
  if (stage == current_stage_) return "";
  const bool first = current_stage_ < 0;
  current_stage_ = stage;
  std::map<std::string, const Entry*> by_name;
  for (const auto& e : entries_) by_name[e.name] = &e;
  int64_t trainable = 0, changed = 0;
  for (auto& np : model.named_parameters(true)) {
    const Entry& e = *by_name.at(np.key());
    const bool on = e.trains && e.stage <= stage;
    if (np.value().requires_grad() != on) ++changed;
    np.value().set_requires_grad(on);
    if (on) trainable += np.value().numel();
  }
  if (first || changed == 0) return "";
  if (cfg_.unfreeze_after > 0)
    return "unfreeze after " + std::to_string(cfg_.unfreeze_after) + " steps: from step " + std::to_string(step) +
           " the parameters " + cfg_.strategy + " froze train too, " + fmt_count(trainable) + " in all";
  return "gradual unfreezing: stage " + std::to_string(stage) + " at step " + std::to_string(step) + ", " +
         fmt_count(trainable) + " parameters train";
}

std::string TransferPlan::describe() const {
  std::string s = "transfer: strategy " + cfg_.strategy;
  if (cfg_.freeze_layers > 0) s += ", embeddings + first " + std::to_string(cfg_.freeze_layers) + " blocks frozen";
  if (lora_)
    s += ", LoRA r=" + std::to_string(lora_->r) + " alpha=" + std::to_string(lora_->alpha).substr(0, 5) + " on " +
         std::to_string(lora_modules_.size()) + " projections";
  if (!cfg_.freeze.empty()) s += ", " + std::to_string(cfg_.freeze.size()) + " freeze patterns";
  if (cfg_.layer_lr_decay != 1.0) s += ", layer LR decay " + std::to_string(cfg_.layer_lr_decay).substr(0, 5);
  if (cfg_.backbone_lr != 1.0) s += ", backbone LR x" + std::to_string(cfg_.backbone_lr).substr(0, 5);
  if (cfg_.unfreeze_every > 0) s += ", one more block unfrozen every " + std::to_string(cfg_.unfreeze_every) + " steps";
  if (cfg_.unfreeze_after > 0) s += ", the frozen part trains after step " + std::to_string(cfg_.unfreeze_after);
  return s;
}

nlohmann::json TransferPlan::to_json() const {
  nlohmann::json j = {{"strategy", cfg_.strategy},
                      {"freeze_layers", cfg_.freeze_layers},
                      {"layer_lr_decay", cfg_.layer_lr_decay},
                      {"backbone_lr", cfg_.backbone_lr},
                      {"unfreeze_every", cfg_.unfreeze_every},
                      {"unfreeze_after", cfg_.unfreeze_after}};
  if (lora_) {
    j["lora"] = lora_->to_json();
    j["lora"]["modules"] = lora_modules_;
  }
  return j;
}

}  // namespace ptft
