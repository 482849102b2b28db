// ptft/train/optimizer.h — AdamW (fused on CPU) and SGD with momentum over named parameter
// groups; state saved by parameter name so a checkpoint can be inspected and resumed.
//
// Groups carry an LR multiplier (discriminative fine-tuning: lower LR for early layers) and
// their own weight decay. Only trainable parameters are ever given to an optimizer.
//
//   auto groups = default_param_groups(model, /*weight_decay=*/0.1, [](auto&){ return 1.0; });
//   auto opt = make_optimizer(cfg, groups);
//   opt->step(lr);                     // group lr = lr * group.lr_mult
//   save_tensors(dir + "/optimizer.safetensors", opt->state());
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ptft/io/tensor_io.h"

namespace ptft {
class ModelImpl;

struct ParamGroup {
  std::string name;                   // "decay", "no_decay", "block.3", ...
  std::vector<std::string> names;     // parameter names, parallel to params
  std::vector<torch::Tensor> params;
  double lr_mult = 1.0;
  double weight_decay = 0.0;
};

struct OptimConfig {
  std::string type = "adamw";  // adamw | sgd
  double beta1 = 0.9;          // AdamW first-moment decay
  double beta2 = 0.999;        // AdamW second-moment decay
  double eps = 1e-8;           // AdamW denominator epsilon
  double momentum = 0.9;       // SGD momentum
  bool nesterov = false;       // SGD Nesterov momentum
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {}
  virtual ~Optimizer() = default;
  // One update with base learning rate `lr`; parameters without a gradient are skipped. The
  // gradients are read multiplied by `grad_scale` (gradient clipping's coefficient: no pass of its
  // own over them; 1 = as they are) and are not modified.
  void step(double lr, double grad_scale = 1.0) { update(lr, grad_scale); }
  void zero_grad();
  // State by name: "<param>.exp_avg", "<param>.exp_avg_sq", "<param>.step", "<param>.momentum".
  virtual TensorMap state() const = 0;
  // Strict: every trainable parameter's state must be present with the right shape.
  virtual void load_state(const TensorMap& state, const std::string& source) = 0;
  const std::vector<ParamGroup>& groups() const { return groups_; }
  std::vector<torch::Tensor> params() const;

 protected:
  virtual void update(double lr, double grad_scale) = 0;
  // Calls f(group_index, param_index, param, group_lr, group) for every parameter with a grad.
  template <class F>
  void for_each_with_grad(double base_lr, F&& f) {
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      auto& group = groups_[gi];
      const double lr = base_lr * group.lr_mult;
      for (size_t pi = 0; pi < group.params.size(); ++pi)
        if (group.params[pi].grad().defined()) f(gi, pi, group.params[pi], lr, group);
    }
  }
  std::vector<ParamGroup> groups_;
};

// AdamW as torch.optim.AdamW computes it (decoupled decay, bias correction), in one pass over
// memory per parameter on CPU fp32 (param, grad, exp_avg, exp_avg_sq read/written once).
class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, double beta1, double beta2, double eps);
  TensorMap state() const override;
  void load_state(const TensorMap& state, const std::string& source) override;

 private:
  void update(double lr, double grad_scale) override;
  struct Slot { torch::Tensor exp_avg, exp_avg_sq; int64_t step = 0; };
  std::vector<std::vector<Slot>> slots_;  // [group][param]
  double beta1_, beta2_, eps_;
};

// SGD with momentum (PyTorch semantics: coupled weight decay, dampening 0).
class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParamGroup> groups, double momentum, bool nesterov);
  TensorMap state() const override;
  void load_state(const TensorMap& state, const std::string& source) override;

 private:
  void update(double lr, double grad_scale) override;
  std::vector<std::vector<torch::Tensor>> buf_;
  double momentum_;
  bool nesterov_;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& cfg, std::vector<ParamGroup> groups);

// Trainable parameters of `model` in two groups per LR multiplier: with weight decay, and
// without (ModelImpl::no_weight_decay: biases, norms, embeddings). `lr_mult(name)` gives
// per-parameter multipliers (1.0 for plain training).
std::vector<ParamGroup> default_param_groups(ModelImpl& model, double weight_decay,
                                             const std::function<double(const std::string&)>& lr_mult);

}  // namespace ptft
