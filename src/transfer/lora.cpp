#include "ptft/transfer/lora.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/io/tensor_io.h"
#include "ptft/nn/linear.h"

namespace ptft {
namespace {

// PEFT's rule: a target adapts every module whose name equals it or ends in "." + target.
bool peft_target_matches(const std::string& target, const std::string& name) {
  const size_t n = target.size();
  return name == target ||
         (name.size() > n && name.compare(name.size() - n, n, target) == 0 && name[name.size() - n - 1] == '.');
}

// A target matches a module name as a glob over the whole name, or as its last dotted parts
// ("c_proj" matches "transformer.h.0.mlp.c_proj"; "attn.c_proj" only the attention one).
bool target_matches(const std::string& target, const std::string& name) {
  return ::fnmatch(target.c_str(), name.c_str(), 0) == 0 || peft_target_matches(target, name);
}

// Every nn::Linear of the model with its module name.
std::vector<std::pair<std::string, nn::LinearImpl*>> linears(ModelImpl& model) {
  std::vector<std::pair<std::string, nn::LinearImpl*>> out;
  for (const auto& item : model.named_modules("", /*include_self=*/false))
    if (auto* lin = item.value()->as<nn::LinearImpl>()) out.emplace_back(item.key(), lin);
  return out;
}

// target_modules for PEFT, which takes no globs: per adapted module the shortest dotted suffix of its
// name that matches no module without an adapter ("query", "c_attn"; "mlp.c_proj" when the
// attention's c_proj is not adapted), each once, in module order. PEFT then adapts exactly the
// modules that the file has adapters for (pooler.dense or cls.predictions.transform.dense are no
// "dense" targets).
std::vector<std::string> peft_target_modules(ModelImpl& model) {
  std::vector<std::string> adapted, others;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    auto* lin = item.value()->as<nn::LinearImpl>();
    (lin && lin->has_lora() ? adapted : others).push_back(item.key());
  }
  std::vector<std::string> targets;
  for (const auto& name : adapted) {
    auto matches = [&](const std::string& t) { return peft_target_matches(t, name); };
    if (std::any_of(targets.begin(), targets.end(), matches)) continue;
    for (size_t dot = name.rfind('.');; dot = name.rfind('.', dot - 1)) {
      const std::string suffix = dot == std::string::npos ? name : name.substr(dot + 1);
      const bool unique = std::none_of(others.begin(), others.end(),
                                       [&](const std::string& o) { return peft_target_matches(suffix, o); });
      if (unique || dot == std::string::npos || dot == 0) {
        targets.push_back(suffix);
        break;
      }
    }
  }
  return targets;
}

std::string join(const std::vector<std::string>& v, size_t max_items) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max_items) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

}  // namespace

void LoraConfig::validate() const {
  if (r <= 0) throw UserError("finetune.lora.r must be > 0, got " + std::to_string(r), "typical ranks: 4, 8, 16");
  if (alpha <= 0) throw UserError("finetune.lora.alpha must be > 0", "the usual choice is alpha = 2 * r");
  if (dropout < 0 || dropout >= 1)
    throw UserError("finetune.lora.dropout must be in [0, 1), got " + std::to_string(dropout));
}

nlohmann::json LoraConfig::to_json() const {
  return {{"r", r}, {"alpha", alpha}, {"dropout", dropout}, {"targets", targets}};
}

LoraConfig LoraConfig::from_json(const nlohmann::json& j, const std::string& source) {
  LoraConfig c;
  try {
    c.r = j.at("r").get<int64_t>();
    c.alpha = j.at("alpha").get<double>();
    c.dropout = j.value("dropout", 0.0);
    c.targets = j.value("targets", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    throw UserError(source + ": the LoRA settings (ptft.lora) are malformed: " + e.what(),
                    "the checkpoint's config.json was edited or damaged; restore it");
  }
  c.validate();
  return c;
}

std::vector<std::string> linear_module_names(ModelImpl& model) {
  std::vector<std::string> names;
  for (auto& [name, lin] : linears(model)) names.push_back(name);
  return names;
}

std::vector<std::string> attach_lora(ModelImpl& model, const LoraConfig& cfg, const std::string& where) {
  cfg.validate();
  const auto all = linears(model);
  if (all.empty())
    throw UserError(where + ": the " + model.family() + " model has no projections LoRA can adapt",
                    "use finetune.strategy full, freeze or head for this family");
  // No targets: the projections inside the blocks (attention and MLP, as PEFT's "all-linear"),
  // not an untied output head; a model without blocks: all of them.
  std::vector<bool> chosen(all.size(), false);
  if (cfg.targets.empty()) {
    for (size_t i = 0; i < all.size(); ++i)
      chosen[i] = model.param_place(all[i].first + ".weight").kind == ParamPlace::kBlock;
    if (std::none_of(chosen.begin(), chosen.end(), [](bool b) { return b; })) chosen.assign(all.size(), true);
  }
  for (const auto& t : cfg.targets) {
    bool any = false;
    for (size_t i = 0; i < all.size(); ++i)
      if (target_matches(t, all[i].first)) chosen[i] = any = true;
    if (!any)
      throw UserError(where + ": LoRA target '" + t + "' matches no projection of the " + model.family() +
                          " model",
                      "targets are globs over module names or name suffixes; the projections are: " +
                          join(linear_module_names(model), 12));
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!chosen[i]) continue;
    all[i].second->add_lora(cfg.r, cfg.alpha, cfg.dropout);
    names.push_back(all[i].first);
  }
  return names;
}

void merge_lora(ModelImpl& model) {
  for (auto& [name, lin] : linears(model)) lin->merge_lora();
}

bool has_lora(ModelImpl& model) {
  for (auto& [name, lin] : linears(model))
    if (lin->has_lora()) return true;
  return false;
}

void save_peft_adapter(const std::string& dir, ModelImpl& model, const LoraConfig& cfg, const std::string& base_model) {
  TensorMap tensors;
  std::vector<std::string> modules;
  for (auto& [name, lin] : linears(model)) {
    if (!lin->has_lora()) continue;
    modules.push_back(name);
    // PEFT: base_model.model.<module>.lora_A.weight (r, in), .lora_B.weight (out, r).
    tensors["base_model.model." + name + ".lora_A.weight"] = lin->lora_A->weight.detach().to(torch::kCPU).contiguous();
    tensors["base_model.model." + name + ".lora_B.weight"] = lin->lora_B->weight.detach().to(torch::kCPU).contiguous();
  }
  if (modules.empty()) throw InternalError("save_peft_adapter: the model has no LoRA adapters");
  const std::vector<std::string> targets = peft_target_modules(model);
  // Classifiers also train their head (transfer_plan.h): PEFT's SEQ_CLS with modules_to_save.
  const bool classifier = !model.class_names().empty();
  const PeftFacts& peft = find_model_family(model.family(), "the PEFT adapter").peft;
  const nlohmann::json task_type = classifier                ? nlohmann::json("SEQ_CLS")
                                   : !peft.task_type.empty() ? nlohmann::json(peft.task_type)
                                                             : nlohmann::json(nullptr);
  std::vector<std::string> to_save;
  if (classifier)
    for (const auto& p : model.named_parameters(true)) {
      if (model.param_place(p.key()).kind != ParamPlace::kHead) continue;
      const std::string module = p.key().substr(0, p.key().rfind('.'));
      if (std::find(to_save.begin(), to_save.end(), module) == to_save.end()) to_save.push_back(module);
      // PEFT stores a modules_to_save weight under the plain name (its "modules_to_save.default."
      // wrapper is stripped on save), so the adapter file carries the trained head.
      tensors["base_model.model." + p.key()] = p.value().detach().to(torch::kCPU).contiguous();
    }
  nlohmann::json config = {{"peft_type", "LORA"},
                           {"task_type", task_type},
                           {"r", cfg.r},
                           {"lora_alpha", cfg.alpha},
                           {"lora_dropout", cfg.dropout},
                           {"target_modules", targets},
                           {"bias", "none"},
                           {"fan_in_fan_out", peft.fan_in_fan_out},
                           {"inference_mode", true},
                           {"modules_to_save", to_save.empty() ? nlohmann::json(nullptr) : nlohmann::json(to_save)},
                           {"base_model_name_or_path", base_model}};
  save_tensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
  fs::write_file_atomic(dir + "/adapter_config.json", config.dump(2) + "\n");
}

ModelPtr model_from_checkpoint(Checkpoint& c) {
  const std::string config_path = c.dir + "/config.json";
  const bool lora = c.config.contains("ptft") && c.config["ptft"].contains("lora");
  if (auto built = std::dynamic_pointer_cast<ModelImpl>(std::exchange(c.built, nullptr)); built && !lora) return built;
  ModelPtr model = model_from_config_json(c.config, config_path);
  if (c.config.contains("ptft") && c.config["ptft"].contains("lora"))
    attach_lora(*model, LoraConfig::from_json(c.config["ptft"]["lora"], config_path), config_path);
  load_into(*model, c.model, c.dir + "/model.safetensors", /*strict=*/true);
  return model;
}

}  // namespace ptft
