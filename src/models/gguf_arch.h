// gguf_arch.h (private to src/models) — the Hugging Face <-> llama.cpp tables of each GGUF
// architecture ptft writes: tensor names with their layout changes, and the <arch>.* keys.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/io/gguf.h"

namespace ptft::gguf_arch {

// How a tensor's layout differs between the Hugging Face file and GGUF.
enum class Layout {
  kSame,
  kTransposed,  // GPT-2's Conv1D weights: (in, out) in HF, (out, in) in GGUF
  kRopeQ,       // llama.cpp's "llama" rope pairs neighbouring dims: q rows permuted per head
  kRopeK,       // the same for k, per kv head
};

struct TensorRule {
  std::string hf;    // pattern, "*" = the layer index
  std::string gguf;  // pattern
  Layout layout = Layout::kSame;
};

struct Arch {
  std::string name;                // llama.cpp's architecture: llama | qwen2 | qwen3 | gpt2
  std::vector<TensorRule> tensors;
};

// The architecture of a Hugging Face config.json (model_type); UserError for one llama.cpp's GGUF
// does not run from ptft's families (naming the ones it does).
const Arch& arch_of_hf(const nlohmann::json& hf_config, const std::string& where);
// The architecture named by a GGUF file's general.architecture; UserError otherwise.
const Arch& arch_of_gguf(const std::string& name, const std::string& where);

// <arch>.* keys from the Hugging Face config.
void write_metadata(const Arch& a, const nlohmann::json& hf_config, gguf::Writer& w);
// The Hugging Face config.json (model_type, sizes) a GGUF file's keys and tensors describe.
nlohmann::json hf_config_of(const Arch& a, const gguf::File& f);

// (heads, head size) a kRopeQ / kRopeK tensor is permuted over, from the HF config.
std::pair<int64_t, int64_t> rope_heads(const nlohmann::json& hf_config, Layout layout);

}  // namespace ptft::gguf_arch
