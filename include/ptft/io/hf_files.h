// ptft/io/hf_files.h — the parts of a Hugging Face model directory that every architecture
// reader shares: is it one, its JSON files, and its safetensors weights (one file or shards).
//
//   if (is_hf_model_dir(dir)) {
//     nlohmann::json cfg = read_json_file(dir + "/config.json", "Hugging Face model config");
//     ForeignTensors w = load_hf_tensors(dir);               // every tensor, as the files name it
//   }
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/io/name_map.h"

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

// Every tensor of `dir`'s weights (all shards), as the files name them; a name in two shards is a
// UserError.
ForeignTensors load_hf_tensors(const std::string& dir);

}  // namespace ptft
