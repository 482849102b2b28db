// src/models/family_formats.h — the foreign formats each family declares in its registry entry
// (private to models/: the families' files include it, nothing else does).
#pragma once

#include "ptft/models/foreign_format.h"

namespace ptft {

ForeignFormat gpt2_hf_format();           // src/models/gpt2_hf.cpp: Hugging Face GPT-2 directories
ForeignFormat bert_hf_format();           // src/models/bert_hf.cpp: Hugging Face BERT directories
LegacyNames bert_legacy_names();          // src/models/bert_hf.cpp: ptft BERT checkpoints with GPT-style block names
ForeignFormat llama_hf_format();          // src/models/llama_hf.cpp: Hugging Face Llama / Qwen2 / Qwen3 / Mistral directories
ForeignFormat resnet_torchvision_format();  // src/models/resnet_torchvision.cpp: torchvision/timm state dicts

}  // namespace ptft
