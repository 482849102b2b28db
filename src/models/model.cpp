#include "ptft/models/model.h"

#include <algorithm>

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/models/presets.h"

namespace ptft {

bool ModelImpl::no_weight_decay(const std::string& name, const torch::Tensor& p) const {
  if (p.dim() < 2) return true;  // biases, LayerNorm/BatchNorm weights
  for (const char* pat : {"embed", "wte", "wpe"})
    if (name.find(pat) != std::string::npos) return true;
  return false;
}

void ModelImpl::set_classes(const std::vector<std::string>& /*names*/, bool /*new_head*/) {
  throw UserError("a '" + family() + "' model has no classifier head to name or replace",
                  "class names and new heads apply to classifier families (mlp, resnet)");
}

int64_t ModelImpl::load_backbone(const TensorMap& /*donor*/, const std::string& source) {
  throw UserError("a '" + family() + "' model has no backbone to take from '" + source + "'",
                  "a backbone seeds a family that lists the donor's family in backbone_from (yolo: resnet)");
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

ModelPtr create_model(const config::Document& doc_in, const std::string& prefix) {
  config::Document doc = doc_in;  // shares the tree: preset keys become part of the run's config
  {
    const YAML::Node& croot = doc.root();
    if (croot[prefix] && croot[prefix].IsMap() && croot[prefix]["preset"]) {
      if (!croot[prefix]["preset"].IsScalar())
        throw UserError(doc.origin_of(prefix + ".preset") + ": '" + prefix + ".preset' must be a preset name",
                        "e.g. preset: gpt-tiny");
      const std::string name = croot[prefix]["preset"].as<std::string>();
      if (!name.empty()) {
        const std::string path = find_preset(name, doc.origin_of(prefix + ".preset"));
        config::Document preset = config::Document::from_file(path);
        doc.fill_defaults(prefix, preset.root(), "preset '" + name + "' (" + path + ")");
      }
    }
  }
  YAML::Node section = doc.root()[prefix];
  if (!section || !section.IsMap() || !section["family"])
    throw UserError(doc.origin_of(prefix) + ": the config has no '" + prefix + ".family'",
                    "add e.g. `" + prefix + ": {family: gpt, preset: gpt-tiny}`");
  if (!section["family"].IsScalar())
    throw UserError(doc.origin_of(prefix + ".family") + ": '" + prefix + ".family' must be a family name",
                    "e.g. family: gpt");
  auto family = section["family"].as<std::string>();
  return find_model_family(family, doc.origin_of(prefix + ".family")).from_run_config(doc, prefix);
}

ModelPtr model_from_config_json(const nlohmann::json& cfg, const std::string& source) {
  std::string family;
  if (cfg.contains("ptft") && cfg["ptft"].is_object() && cfg["ptft"].contains("family")) {
    if (!cfg["ptft"]["family"].is_string())
      throw UserError("'" + source + "': \"ptft.family\" must be a string, got " + cfg["ptft"]["family"].dump(),
                      "a family name such as \"gpt\" or \"llama\"; re-export the checkpoint");
    family = cfg["ptft"]["family"].get<std::string>();
  } else if (cfg.contains("model_type") && cfg["model_type"].is_string()) {
    const ModelFamily* f = find_hf_family(cfg["model_type"]);  // an HF config.json: the family reading it
    family = f ? f->name : cfg["model_type"].get<std::string>();
  } else {
    throw UserError("'" + source + "' names no model family (no \"ptft.family\" or \"model_type\")",
                    "is this a ptft or Hugging Face checkpoint directory?");
  }
  try {
    return find_model_family(family, source).from_config_json(cfg, source);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + source + "': bad model config: " + e.what(), "re-export the checkpoint");
  }
}

const ModelFamily* find_hf_family(const std::string& type) {
  for (const auto& f : model_families())
    for (const auto& format : f.formats)
      if (std::find(format.hf_model_types.begin(), format.hf_model_types.end(), type) != format.hf_model_types.end())
        return &f;
  return nullptr;
}

int64_t count_parameters(const torch::nn::Module& m, bool trainable_only) {
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

torch::nn::Linear replace_linear_head(torch::nn::Module& owner, const std::string& name, const torch::nn::Linear& old,
                                      int64_t out_features) {
  torch::nn::Linear head(torch::nn::LinearOptions(old->options.in_features(), out_features).bias(old->options.bias()));
  head->to(old->weight.device(), old->weight.scalar_type());
  return owner.replace_module(name, head);
}

int64_t block_index(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return -1;
  size_t i = prefix.size(), j = i;
  while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
  if (j == i || j >= name.size() || name[j] != '.') return -1;
  return std::stoll(name.substr(i, j - i));
}

}  // namespace ptft
