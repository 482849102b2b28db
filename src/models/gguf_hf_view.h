// gguf_hf_view.h (private to src/models) — a model's Hugging Face form, which GGUF files stand
// for (gguf_model.h): its family's "hf" format and the config.json that format writes.
#pragma once

#include <nlohmann/json.hpp>

#include "ptft/models/foreign_format.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

// UserError for a family without one (GGUF holds only what has a Hugging Face causal-LM form).
const ForeignFormat& hf_format_of(const ModelImpl& model);
// config.json of the model's Hugging Face form (what export --format hf writes; bos/eos from `tok`).
nlohmann::json hf_config_of_model(const ModelImpl& model, const Tokenizer* tok = nullptr);

}  // namespace ptft
