// src/models/family_formats.h — the foreign formats each family declares in its registry entry
// (private to models/: the families' files include it, and the exporters for their hints).
#pragma once

#include "ptft/models/foreign_format.h"
#include "ptft/models/model.h"

namespace ptft {

ForeignFormat gpt2_hf_format();           // src/models/gpt2_hf.cpp: Hugging Face GPT-2 directories
ForeignFormat bert_hf_format();           // src/models/bert_hf.cpp: Hugging Face BERT directories
LegacyNames bert_legacy_names();          // src/models/bert_hf.cpp: ptft BERT checkpoints with GPT-style block names
ForeignFormat llama_hf_format();          // src/models/llama_hf.cpp: Hugging Face Llama / Qwen2 / Qwen3 / Mistral directories
ForeignFormat resnet_torchvision_format();  // src/models/resnet_torchvision.cpp: torchvision/timm state dicts

// "hf (Hugging Face GPT-2 directory), ptft (a plain ptft checkpoint)": what `family` exports as,
// for hints (src/models/model_files.cpp).
std::string export_formats_text(const ModelFamily& family);

}  // namespace ptft
