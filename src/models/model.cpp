#include "ptft/models/model.h"

#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft {

bool ModelImpl::no_weight_decay(const std::string& name, const torch::Tensor& p) const {
  if (p.dim() < 2) return true;  // biases, LayerNorm/BatchNorm weights
  for (const char* pat : {"embed", "wte", "wpe"})
    if (name.find(pat) != std::string::npos) return true;
  return false;
}

const ModelFamily& find_model_family(const std::string& name, const std::string& where) {
  std::vector<std::string> names;
  for (const auto& f : model_families()) {
    if (f.name == name) return f;
    names.push_back(f.name);
  }
  std::string hint = "known families: ";
  for (size_t i = 0; i < names.size(); ++i) hint += (i ? ", " : "") + names[i];
  auto near = config::nearest(name, names);
  if (!near.empty()) hint = "did you mean '" + near + "'? " + hint;
  throw UserError(where + ": unknown model family '" + name + "'", hint);
}

ModelPtr create_model(const config::Document& doc, const std::string& prefix) {
  YAML::Node section = doc.root()[prefix];
  if (!section || !section.IsMap() || !section["family"])
    throw UserError(doc.origin_of(prefix) + ": the config has no '" + prefix + ".family'",
                    "add e.g. `" + prefix + ": {family: gpt, preset: gpt-tiny}`");
  auto family = section["family"].as<std::string>();
  return find_model_family(family, doc.origin_of(prefix + ".family")).from_run_config(doc, prefix);
}

ModelPtr model_from_config_json(const nlohmann::json& cfg, const std::string& source) {
  std::string family;
  if (cfg.contains("ptft") && cfg["ptft"].contains("family")) family = cfg["ptft"]["family"];
  else if (cfg.contains("model_type") && cfg["model_type"].is_string()) family = cfg["model_type"];
  else
    throw UserError("'" + source + "' names no model family (no \"ptft.family\" or \"model_type\")",
                    "is this a ptft or Hugging Face checkpoint directory?");
  if (family == "gpt2") family = "gpt";
  try {
    return find_model_family(family, source).from_config_json(cfg, source);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + source + "': bad model config: " + e.what(), "re-export the checkpoint");
  }
}

int64_t count_parameters(const torch::nn::Module& m, bool trainable_only) {
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

}  // namespace ptft
