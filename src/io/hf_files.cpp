#include "ptft/io/hf_files.h"
#include "ptft/core/json_depth.h"

#include <filesystem>
#include <set>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {
bool exists(const std::string& path) {
  std::error_code ec;
  return sfs::exists(path, ec);
}
}  // namespace

bool is_hf_model_dir(const std::string& dir) {
  const std::string path = dir + "/config.json";
  std::error_code ec;
  if (!sfs::is_regular_file(path, ec)) return false;
  nlohmann::json j;
  try {
    const std::string text = fs::read_file(path, "model config");
    if (json_depth(text) > kMaxJsonDepth) return false;  // the checkpoint reader reports it
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return false;  // the checkpoint reader reports the broken file
  }
  return j.is_object() && !j.contains("ptft") && j.contains("model_type");
}

std::string hf_model_type(const std::string& dir) {
  try {
    const std::string text = fs::read_file(dir + "/config.json", "model config");
    if (json_depth(text) > kMaxJsonDepth) return "";
    const nlohmann::json j = nlohmann::json::parse(text);
    return j.is_object() && j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : "";
  } catch (const std::exception&) {
    return "";
  }
}

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  const std::string text = fs::read_file(path, what);
  require_json_depth(text, what + " '" + path + "'");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(what + " '" + path + "' is not valid JSON: " + e.what(), "fix or replace the file");
  }
}

std::vector<std::string> hf_weight_files(const std::string& dir) {
  if (exists(dir + "/model.safetensors")) return {dir + "/model.safetensors"};
  const std::string index = dir + "/model.safetensors.index.json";
  if (exists(index)) {
    const nlohmann::json j = read_json_file(index, "safetensors index");
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw UserError("'" + index + "' has no \"weight_map\" object", "the index of a sharded model is damaged");
    std::set<std::string> files;
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos)
        throw UserError("'" + index + "': weight_map[\"" + name + "\"] must be a file name in the directory, got " +
                        file.dump());
      files.insert(dir + "/" + file.get<std::string>());
    }
    return {files.begin(), files.end()};
  }
  for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json"})
    if (exists(dir + "/" + pickle))
      throw UserError("'" + dir + "' holds " + pickle + " but no model.safetensors: ptft reads safetensors only "
                      "(pickle files can run code when loaded)",
                      "convert it where transformers is installed: python3 -c \"from transformers import "
                      "AutoModel as M; M.from_pretrained('" + dir + "').save_pretrained('" + dir +
                      "', safe_serialization=True)\" (AutoModelForCausalLM / AutoModelForMaskedLM keep the head)");
  throw UserError("'" + dir + "' has no model.safetensors (nor model.safetensors.index.json)",
                  "a Hugging Face model directory needs its weights as safetensors");
}

ForeignTensors load_hf_tensors(const std::string& dir) {
  ForeignTensors r;
  for (const auto& file : hf_weight_files(dir)) {
    TensorMap part;
    try {
      part = load_tensors(file);
    } catch (const UserError& e) {
      throw e.with_context("reading Hugging Face weights");
    }
    for (auto& [name, t] : part) {
      if (r.tensors.count(name))
        throw UserError("'" + file + "': tensor '" + name + "' appears twice (also in '" + r.file_of[name] + "')",
                        "the weights are ambiguous; re-save the model with save_pretrained");
      r.tensors[name] = t;
      r.file_of[name] = file;
    }
  }
  return r;
}

}  // namespace ptft
