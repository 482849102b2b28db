// ptft/models/mlp.h — a multi-layer perceptron classifier over feature vectors.
//
// The smallest family: it exercises the Trainer, checkpoints and resume end to end on
// generated data (data: synthetic:spirals) while the real families build on the same contracts.
//
//   model: {family: mlp, in_features: 2, hidden: [64, 64], num_classes: 3}
//   out = mlp->forward({{"x", x}});   // x: (B, in_features) -> out["logits"]: (B, num_classes)
//   mlp->set_classes({"cat", "dog"}, /*new_head=*/false);   // 2 != 3 classes: a new head
#pragma once

#include "ptft/models/model.h"

namespace ptft {

struct MlpConfig {
  int64_t in_features = 2;                 // input vector size
  std::vector<int64_t> hidden = {64, 64};  // hidden layer widths (ReLU between layers)
  int64_t num_classes = 3;                 // output logits
  double dropout = 0.0;                    // dropout after each hidden layer
  template <class V> void visit(V& v) {
    v("in_features", in_features, "input vector size");
    v("hidden", hidden, "hidden layer widths");
    v("num_classes", num_classes, "number of output classes");
    v("dropout", dropout, "dropout after each hidden layer");
  }
  void validate() const;
};

class MlpImpl : public ModelImpl {
 public:
  explicit MlpImpl(MlpConfig cfg);
  std::string family() const override { return "mlp"; }
  nlohmann::json config_json() const override;
  YAML::Node config_yaml() const override;
  TensorMap forward(const TensorMap& batch) override;
  double flops_per_unit() const override;
  int64_t num_blocks() const override { return static_cast<int64_t>(cfg_.hidden.size()); }
  ParamPlace param_place(const std::string& name) const override;  // layers.N: block N, head: head
  std::vector<std::string> class_names() const override { return class_names_; }
  void set_classes(const std::vector<std::string>& names, bool new_head) override;  // replaces `head`
  const MlpConfig& config() const { return cfg_; }

 private:
  MlpConfig cfg_;
  torch::nn::ModuleList layers_{nullptr};  // Linear (in, h0), (h0, h1), ...
  torch::nn::Linear head_{nullptr};        // (h_last, num_classes)
  std::vector<std::string> class_names_;   // num_classes names; "0".. by default
};

ModelFamily mlp_family();

}  // namespace ptft
