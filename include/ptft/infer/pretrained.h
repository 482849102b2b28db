// ptft/infer/pretrained.h — a trained model ready to use: weights, tokenizer, chat template.
//
// `path` may be a ptft checkpoint directory, a run directory (its checkpoints/best, else
// checkpoints/last), or a Hugging Face GPT-2 directory (config.json + model.safetensors +
// vocab.json + merges.txt). The model comes from model_from_checkpoint (LoRA adapters of a LoRA
// run re-attached). The tokenizer comes from the checkpoint's tokenizer/ (ptft) or the HF
// files; a tokenizer whose vocabulary does not fit the model's vocab_size is a UserError.
//
//   Pretrained p = load_pretrained("runs/legal-lora", {});
//   p.model->eval();  p.tokenizer->encode("...");  if (p.chat_template) ...
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ptft/data/chat_template.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

struct Pretrained {
  std::string dir;                            // the checkpoint directory actually read
  nlohmann::json config;                      // its config.json (ptft form)
  ModelPtr model;                             // in eval mode, on the CPU
  TokenizerPtr tokenizer;                     // null when the checkpoint has none
  std::optional<ChatTemplate> chat_template;  // from config.json ptft.chat_template
};

struct PretrainedOptions {
  bool require_tokenizer = true;  // UserError when no tokenizer is found
  // `command` (e.g. "generate") needs a causal language model: any other is a UserError that
  // says so before anything is said about tokenizers ("" = any model).
  std::string language_model_for;
};

// Resolves and loads `path` (see above). Errors name the path and what is missing.
Pretrained load_pretrained(const std::string& path, const PretrainedOptions& opt);
// The checkpoint directory `path` stands for (run dir -> checkpoints/best or last).
std::string resolve_checkpoint_dir(const std::string& path);

}  // namespace ptft
