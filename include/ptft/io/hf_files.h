// ptft/io/hf_files.h — the parts of a Hugging Face model directory that every architecture
// reader shares: is it one, its JSON files, and its safetensors weights (one file or shards).
//
//   if (is_hf_model_dir(dir)) {
//     nlohmann::json cfg = read_json_file(dir + "/config.json", "Hugging Face model config");
//     HfTensors w = load_hf_tensors(dir, "transformer.");   // names with the prefix stripped
//   }
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/io/tensor_io.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

// True when `dir`/config.json is a JSON object with "model_type" and without "ptft" (a Hugging
// Face model directory rather than a ptft checkpoint).
bool is_hf_model_dir(const std::string& dir);
// Its config.json's "model_type" ("gpt2", "bert", ...; "" when unreadable).
std::string hf_model_type(const std::string& dir);

// The JSON of `path`; UserError naming the file (`what` says what it is) when missing or invalid.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// The safetensors files of `dir`: model.safetensors, or the shards named by its index. A
// pickle-only directory is a UserError that says how to convert it.
std::vector<std::string> hf_weight_files(const std::string& dir);

struct HfTensors {
  TensorMap tensors;                           // by name, `prefix` stripped where present
  std::map<std::string, std::string> file_of;  // name -> file it came from (for messages)
};
// What every HF exporter checks first, before anything is written: no LoRA adapters attached
// (UserError: merge them), a tokenizer that fits `vocab_size`, `out_dir` new or empty. Returns
// the model's state dict.
TensorMap hf_export_state(ModelImpl& model, const Tokenizer* tok, int64_t vocab_size, const std::string& out_dir);

// The readers' verdict after matching a file's tensors to the architecture: UserError listing the
// tensors whose shapes do not fit config.json (first), or the missing ones (with `missing_hint`).
void check_hf_tensors(const std::string& dir, const std::vector<std::string>& bad_shape,
                      const std::vector<std::string>& missing, const std::string& missing_hint);

// Every tensor of `dir`'s weights; a name found both with and without `prefix` is a UserError.
HfTensors load_hf_tensors(const std::string& dir, const std::string& prefix);

}  // namespace ptft
