// ptft/models/foreign_format.h — what a model family declares about the formats of other tools:
// the foreign formats it reads and writes (a Hugging Face directory, a torchvision state dict),
// its parameter names under them as data (io/name_map.h), the names of its older checkpoints, and
// its PEFT facts. The generic reader/exporter (models/model_files.h) applies them; nothing else
// knows a family's formats.
//
//   ForeignFormat hf;
//   hf.name = "hf";  hf.source_tag = "huggingface";  hf.hf_model_types = {"gpt2"};
//   hf.read_config = [](const ForeignSource& s) { ... return ptft config.json; };
//   hf.names = [](const ModelImpl& m) { return NameMap{...}; };
//   hf.write_files = [](const ModelImpl& m, const Tokenizer* tok, const std::string& dir) { ... };
//   family.formats = {hf};
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/io/name_map.h"

namespace ptft {

class ModelImpl;
class Tokenizer;

// One foreign model as the reader found it.
struct ForeignSource {
  std::string path;            // what the user named (directory or file)
  std::string config_path;     // its config file ("" for bare weights)
  nlohmann::json config;       // the foreign config (null for bare weights)
  const ForeignTensors* tensors = nullptr;  // its tensors under the file's names
};

struct ForeignFormat {
  std::string name;        // `ptft export --format` name: "hf", "torchvision"
  std::string summary;     // for help and hints: "a Hugging Face GPT-2 directory"
  std::string source_tag;  // config.json "ptft.source" of a model read from it: "<tag>:<path>"
  // Hugging Face directories: the config.json model_types this family reads.
  std::vector<std::string> hf_model_types;
  // A bare weights file or directory (no config.json) whose architecture the tensors tell.
  bool reads_bare_weights = false;
  // The ptft config.json ({..., "ptft": {family, task}}) of a foreign model; UserErrors name the
  // file and the key.
  std::function<nlohmann::json(const ForeignSource&)> read_config;
  // The parameter names of `model` in this format.
  std::function<NameMap(const ModelImpl& model)> names;
  // Export: the files beside model.safetensors (config.json, README) into the directory `dir`;
  // `tok` is the tokenizer exported with the model (null: none).
  std::function<void(const ModelImpl& model, const Tokenizer* tok, const std::string& dir)> write_files;
  // Export: the tokenizer kind the foreign tool reads ("gpt2-bpe", "wordpiece"; "" = none is
  // written) and how to write it into `dir`. Another kind is saved in ptft's form under
  // dir/ptft_tokenizer/ with a note naming `tokenizer_class`.
  std::string tokenizer_kind;
  std::string tokenizer_class;  // "GPT2Tokenizer"
  std::function<void(const ModelImpl& model, const Tokenizer& tok, const std::string& dir)> write_tokenizer;
};

// Checkpoints that ptft wrote under a family's former parameter names: recognised by a tensor name
// matching `marker`, read through `names` (ptft's current names -> the old ones).
struct LegacyNames {
  std::string marker;   // pattern over tensor names: "bert.encoder.layer.*.attn.c_attn.weight"
  std::string until;    // which ptft wrote them, for the note: "ptft before 2026-12"
  NameMap names;
};

// What PEFT needs in adapter_config.json beyond the adapters (transfer/lora.h).
struct PeftFacts {
  std::string task_type;        // a non-classifier's PEFT task_type ("CAUSAL_LM"; "" = null); classifiers: SEQ_CLS
  bool fan_in_fan_out = false;  // the foreign projections store (in, out) weights (GPT-2's Conv1D)
};

}  // namespace ptft
