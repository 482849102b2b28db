// ptft/transfer/lora.h — LoRA adapters on a model's projections, found by module name.
//
// Every projection is an nn::Linear (nn/linear.h), so adapters attach by name pattern without
// model code: targets are globs over module names ("transformer.h.*.attn.c_attn") or plain
// suffixes ("c_attn" matches every module whose name ends in ".c_attn"). A checkpoint of a
// LoRA run records the adapter config in config.json under ptft.lora, so loading it re-attaches
// the adapters before the weights load; the adapters alone are also written in PEFT's layout.
//
//   LoraConfig lc;  lc.r = 8;  lc.alpha = 16;  lc.targets = {"c_attn", "c_proj"};
//   auto names = attach_lora(*model, lc, "finetune.lora.targets");  // freeze the rest yourself
//   save_peft_adapter(dir, *model, lc, "runs/pre/checkpoints/best");
//   merge_lora(*model);                                              // W += s B A; adapters gone
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/io/checkpoint.h"
#include "ptft/models/model.h"

namespace ptft {

struct LoraConfig {
  int64_t r = 8;                      // adapter rank
  double alpha = 16;                  // scale = alpha / r
  double dropout = 0.0;               // dropout on the adapter input
  std::vector<std::string> targets;   // module-name globs or suffixes; empty = every projection inside the blocks
  template <class V> void visit(V& v) {
    v("r", r, "LoRA rank");
    v("alpha", alpha, "LoRA scale numerator (scale = alpha / r)");
    v("dropout", dropout, "dropout on the adapter input");
    v("targets", targets, "module-name globs or suffixes; empty = every projection inside the blocks (attention and MLP)");
  }
  void validate() const;
  nlohmann::json to_json() const;
  static LoraConfig from_json(const nlohmann::json& j, const std::string& source);
};

// Names of every nn::Linear module of `model` (what LoRA targets can match).
std::vector<std::string> linear_module_names(ModelImpl& model);
// Attaches adapters to the matching projections; returns their module names. UserError naming
// `where` and listing the projection names when a target matches nothing.
std::vector<std::string> attach_lora(ModelImpl& model, const LoraConfig& cfg, const std::string& where);
// Folds every adapter into its weight and removes it (no-op without adapters).
void merge_lora(ModelImpl& model);
// True when any projection carries an adapter.
bool has_lora(ModelImpl& model);

// Writes adapter_model.safetensors (PEFT names: base_model.model.<module>.lora_A.weight) and
// adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout, target_modules,
// base_model_name_or_path) into the existing directory `dir`. target_modules are name suffixes
// that select exactly the adapted modules by PEFT's rule (name == target or ends in "." + target),
// whatever globs `cfg.targets` used.
void save_peft_adapter(const std::string& dir, ModelImpl& model, const LoraConfig& cfg,
                       const std::string& base_model);

// The model of a checkpoint (any model path read by models/model_files.h's read_checkpoint):
// architecture from config.json, LoRA adapters re-attached from config.json's ptft.lora, then
// the weights (strict: a missing or unexpected tensor is a UserError naming the file). A model
// the reader already built (Checkpoint::built: foreign formats) is taken out of `c` instead:
// c.model's tensors are then its parameters.
ModelPtr model_from_checkpoint(Checkpoint& c);
inline ModelPtr model_from_checkpoint(Checkpoint&& c) { return model_from_checkpoint(c); }

}  // namespace ptft
