#include "ptft/models/mlp.h"

#include <ATen/CPUGeneratorImpl.h>

#include "ptft/core/error.h"
#include "ptft/models/class_names.h"
#include "ptft/models/family_section.h"

namespace ptft {

void MlpConfig::validate() const {
  if (in_features <= 0) throw UserError("model.in_features must be > 0, got " + std::to_string(in_features));
  if (num_classes < 2) throw UserError("model.num_classes must be >= 2, got " + std::to_string(num_classes));
  for (auto h : hidden)
    if (h <= 0) throw UserError("model.hidden: every width must be > 0, got " + std::to_string(h));
  if (dropout < 0 || dropout >= 1) throw UserError("model.dropout must be in [0, 1), got " + std::to_string(dropout));
}

MlpImpl::MlpImpl(MlpConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  layers_ = register_module("layers", torch::nn::ModuleList());
  int64_t width = cfg_.in_features;
  for (auto h : cfg_.hidden) {
    layers_->push_back(torch::nn::Linear(width, h));
    width = h;
  }
  head_ = register_module("head", torch::nn::Linear(width, cfg_.num_classes));
  class_names_ = default_class_names(cfg_.num_classes);
}

void MlpImpl::set_classes(const std::vector<std::string>& names, bool new_head) {
  check_class_names(names, "mlp classes");
  const auto k = static_cast<int64_t>(names.size());
  if (new_head || k != cfg_.num_classes) head_ = replace_linear_head(*this, "head", head_, k);
  cfg_.num_classes = k;
  class_names_ = names;
}

TensorMap MlpImpl::forward(const TensorMap& batch) {
  auto it = batch.find("x");
  PTFT_CHECK(it != batch.end(), "mlp expects batch field 'x'");
  torch::Tensor h = it->second;  // (B, in_features)
  for (const auto& layer : *layers_) {
    h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));  // (B, h_i)
    if (cfg_.dropout > 0) h = torch::dropout(h, cfg_.dropout, is_training());
  }
  return {{"logits", head_->forward(h)}};  // (B, num_classes)
}

ParamPlace MlpImpl::param_place(const std::string& name) const {
  const int64_t b = block_index(name, "layers.");
  if (b >= 0) return {ParamPlace::kBlock, b};
  return {ParamPlace::kHead, -1};
}

double MlpImpl::flops_per_unit() const {
  double f = 0;
  int64_t width = cfg_.in_features;
  for (auto h : cfg_.hidden) {
    f += 2.0 * width * h;
    width = h;
  }
  return f + 2.0 * width * cfg_.num_classes;
}

nlohmann::json MlpImpl::config_json() const {
  nlohmann::json j = {{"model_type", "mlp"},
                      {"ptft", {{"family", "mlp"}}},
                      {"in_features", cfg_.in_features},
                      {"hidden", cfg_.hidden},
                      {"num_classes", cfg_.num_classes},
                      {"dropout", cfg_.dropout}};
  j.update(class_names_json(class_names_));
  return j;
}

YAML::Node MlpImpl::config_yaml() const { return family_section_yaml("mlp", cfg_); }

namespace {

// Random vectors and labels (the registry's model test suite).
TensorMap mlp_example_batch(const ModelImpl& model, int64_t n, uint64_t seed) {
  const MlpConfig& c = dynamic_cast<const MlpImpl&>(model).config();
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return {{"x", torch::randn({n, c.in_features}, g)}, {"y", torch::randint(c.num_classes, {n}, g, torch::kLong)}};
}

}  // namespace

ModelFamily mlp_family() {
  ModelFamily f;
  f.name = "mlp";
  f.default_task = "classification";
  f.tiny_architecture = "{in_features: 4, hidden: [16, 16], num_classes: 3}";
  f.example_batch = mlp_example_batch;
  f.from_run_config = [](const config::Document& doc, const std::string& prefix) -> ModelPtr {
    return std::make_shared<MlpImpl>(bind_family_section<MlpConfig>(doc, prefix));
  };
  f.from_config_json = [](const nlohmann::json& j, const std::string& source) -> ModelPtr {
    MlpConfig c;
    c.in_features = j.at("in_features").get<int64_t>();
    c.hidden = j.at("hidden").get<std::vector<int64_t>>();
    c.num_classes = j.at("num_classes").get<int64_t>();
    c.dropout = j.value("dropout", 0.0);
    std::shared_ptr<MlpImpl> m;
    try {
      m = std::make_shared<MlpImpl>(c);
    } catch (const UserError& e) {
      throw e.with_context(source);
    }
    m->set_classes(class_names_from_json(j, c.num_classes, source), /*new_head=*/false);  // errors name source
    return m;
  };
  return f;
}

}  // namespace ptft
