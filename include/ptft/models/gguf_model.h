// ptft/models/gguf_model.h — llama.cpp's GGUF files in and out, for the causal language models:
// GPT-2 (architecture gpt2) and the llama family (llama, qwen2, qwen3; mistral is written as llama).
//
// GGUF holds a model as llama.cpp's converter (convert_hf_to_gguf.py) writes a Hugging Face model,
// so both directions go through the family's Hugging Face view: its "hf" format's tensor names
// and config.json. Export maps those to llama.cpp's names, keys and layouts (the tables and the
// reasons are in src/models/gguf_arch.cpp and docs/formats.md); reading maps them back and then
// reads the model as the Hugging Face directory it stands for.
//
//   export_gguf(*model, tokenizer.get(), "out/model.gguf", {"f16", "legal-gpt", jinja});
//   Checkpoint c = read_checkpoint("out/model.gguf");    // models/model_files.h, through read_gguf
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ptft/io/name_map.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

struct GgufExportOptions {
  std::string dtype = "f16";    // f32 | f16 | bf16: the 2-D weights (norms, biases, rope_freqs stay f32)
  std::string name;             // general.name ("" = none)
  std::string chat_template;    // tokenizer.chat_template (Jinja; "" = the tokenizer's own, if any)
};

// Writes `model` (no LoRA adapters attached) and `tok` (may be null: no tokenizer keys, which
// llama.cpp refuses to run) into the GGUF file `path`, atomically. UserErrors: a family with no
// Hugging Face form llama.cpp runs (naming the ones it does), a tokenizer llama.cpp cannot
// reproduce, a bad dtype, an existing `path`.
void export_gguf(ModelImpl& model, const Tokenizer* tok, const std::string& path, const GgufExportOptions& opt);

// A LoRA run's adapters alone as a llama.cpp adapter file (general.type adapter, adapter.type lora,
// adapter.lora.alpha; tensors <base tensor>.lora_a (r, in) and .lora_b (out, r), laid out as the
// base tensor is), for `llama-cli -m BASE.gguf --lora FILE.gguf` with the base model's own GGUF.
// UserError when the model has no adapters.
void export_gguf_adapter(ModelImpl& model, double lora_alpha, const std::string& path, const GgufExportOptions& opt);

// The reverse: attaches the adapters of a llama.cpp LoRA adapter file (one export_gguf_adapter
// wrote, or llama.cpp's convert_lora_to_gguf.py) to `model`, the base they were trained on, and
// loads their weights (rank from the tensors, scale adapter.lora.alpha / rank). UserErrors: not an
// adapter file, another architecture, a tensor the model has no projection for, shapes that do
// not fit.
void load_gguf_adapter(ModelImpl& model, const std::string& path);

// A regular file that starts with the GGUF magic.
bool is_gguf_file(const std::string& path);

// What a GGUF file stands for: the config.json of the Hugging Face model (model_type llama /
// qwen2 / qwen3 / gpt2) and its tensors under Hugging Face names, as views of the mapped file
// where the layout allows (F32/F16/BF16; quantised tensors are a UserError naming the type).
struct GgufAsHf {
  nlohmann::json config;
  ForeignTensors tensors;
};
GgufAsHf read_gguf_as_hf(const std::string& path);

// The tokenizer a GGUF file carries (tokenizer.ggml.*), or null when it has none. UserError for a
// tokenizer model or pre-tokenizer ptft does not read (naming it).
TokenizerPtr read_gguf_tokenizer(const std::string& path);

}  // namespace ptft
