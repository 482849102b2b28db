#include "ptft/train/optimizer.h"

#include <ATen/record_function.h>

#include <cmath>
#include <map>

#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "ptft/models/model.h"
#include "ptft/train/adamw_kernel.h"

namespace ptft {

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params)
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

std::vector<torch::Tensor> Optimizer::params() const {
  std::vector<torch::Tensor> out;
  for (const auto& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

namespace {

const torch::Tensor& need(const TensorMap& state, const std::string& key, const torch::Tensor& like,
                          const std::string& source) {
  auto it = state.find(key);
  if (it == state.end())
    throw UserError("'" + source + "' has no optimizer state '" + key + "'",
                    "the checkpoint was written for other trainable parameters (different strategy "
                    "or model); start without resuming or use the same config");
  if (like.defined() && !it->second.sizes().equals(like.sizes()))
    throw UserError("'" + source + "': optimizer state '" + key + "' has the wrong shape",
                    "the checkpoint was written for a different model");
  return it->second;
}

// The fused kernel over chunks of dense fp32 CPU memory, on libtorch's intra-op threads.
void adamw_fused_cpu(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStep& step) {
  ptft::parallel_for(0, n, 32768, [&](int64_t begin, int64_t end) {
    adamw_update(p + begin, g + begin, m + begin, v + begin, end - begin, step);
  });
}

}  // namespace

AdamW::AdamW(std::vector<ParamGroup> groups, double beta1, double beta2, double eps)
    : Optimizer(std::move(groups)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& g : groups_) {
    std::vector<Slot> s;
    for (const auto& p : g.params)
      s.push_back({torch::zeros_like(p), torch::zeros_like(p), 0});  // the moments in p's layout
    slots_.push_back(std::move(s));
  }
}

void AdamW::update(double base_lr, double grad_scale) {
  RECORD_FUNCTION("ptft::adamw_step", std::vector<c10::IValue>());
  torch::NoGradGuard ng;
  for_each_with_grad(
      base_lr, [&](size_t gi, size_t pi, torch::Tensor& p, double lr, const ParamGroup& group) {
        auto& s = slots_[gi][pi];
        s.step += 1;
        const double bc1 = 1.0 - std::pow(beta1_, s.step);
        const double bc2 = 1.0 - std::pow(beta2_, s.step);
        auto grad = p.grad();
        PTFT_CHECK(!grad.is_sparse(), "AdamW: parameter '" + group.names[pi] + "' has a sparse gradient");
        // The fused kernel walks memory: parameter, gradient and moments laid out alike (any dense
        // layout: channels-last convolution weights take it too).
        if (p.device().is_cpu() && p.scalar_type() == torch::kFloat && grad.scalar_type() == torch::kFloat &&
            p.is_non_overlapping_and_dense() && s.exp_avg.strides() == p.strides() &&
            s.exp_avg_sq.strides() == p.strides()) {
          auto gc = grad.strides() == p.strides() ? grad : torch::empty_like(p).copy_(grad);
          const AdamWStep step{static_cast<float>(lr),
                               static_cast<float>(group.weight_decay),
                               static_cast<float>(beta1_),
                               static_cast<float>(beta2_),
                               static_cast<float>(eps_),
                               static_cast<float>(bc1),
                               static_cast<float>(std::sqrt(bc2)),
                               static_cast<float>(grad_scale)};
          adamw_fused_cpu(p.data_ptr<float>(), gc.data_ptr<float>(), s.exp_avg.data_ptr<float>(),
                          s.exp_avg_sq.data_ptr<float>(), p.numel(), step);
        } else {
          // Same arithmetic with tensor ops (CUDA, other dtypes).
          if (grad_scale != 1.0) grad = grad * grad_scale;
          p.mul_(1.0 - lr * group.weight_decay);
          s.exp_avg.lerp_(grad, 1.0 - beta1_);
          s.exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
          auto denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(eps_);
          p.addcdiv_(s.exp_avg, denom, -lr / bc1);
        }
      });
}

TensorMap AdamW::state() const {
  TensorMap out;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi) {
      const auto& name = groups_[gi].names[pi];
      const auto& s = slots_[gi][pi];
      out[name + ".exp_avg"] = s.exp_avg;
      out[name + ".exp_avg_sq"] = s.exp_avg_sq;
      out[name + ".step"] = torch::tensor(s.step, torch::kLong);
    }
  return out;
}

void AdamW::load_state(const TensorMap& state, const std::string& source) {
  torch::NoGradGuard ng;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi) {
      const auto& name = groups_[gi].names[pi];
      auto& s = slots_[gi][pi];
      s.exp_avg.copy_(need(state, name + ".exp_avg", s.exp_avg, source));
      s.exp_avg_sq.copy_(need(state, name + ".exp_avg_sq", s.exp_avg_sq, source));
      s.step = need(state, name + ".step", torch::Tensor(), source).item<int64_t>();
    }
}

Sgd::Sgd(std::vector<ParamGroup> groups, double momentum, bool nesterov)
    : Optimizer(std::move(groups)), momentum_(momentum), nesterov_(nesterov) {
  for (const auto& g : groups_) {
    std::vector<torch::Tensor> b;
    for (const auto& p : g.params) b.push_back(torch::zeros_like(p));
    buf_.push_back(std::move(b));
  }
}

void Sgd::update(double base_lr, double grad_scale) {
  torch::NoGradGuard ng;
  for_each_with_grad(base_lr,
                     [&](size_t gi, size_t pi, torch::Tensor& p, double lr, const ParamGroup& group) {
                       auto d = grad_scale != 1.0 ? p.grad() * grad_scale : p.grad();
                       if (group.weight_decay != 0) d = d.add(p, group.weight_decay);
                       if (momentum_ != 0) {
                         auto& b = buf_[gi][pi];
                         b.mul_(momentum_).add_(d);
                         d = nesterov_ ? d.add(b, momentum_) : b;
                       }
                       p.add_(d, -lr);
                     });
}

TensorMap Sgd::state() const {
  TensorMap out;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi)
      out[groups_[gi].names[pi] + ".momentum"] = buf_[gi][pi];
  return out;
}

void Sgd::load_state(const TensorMap& state, const std::string& source) {
  torch::NoGradGuard ng;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi)
      buf_[gi][pi].copy_(need(state, groups_[gi].names[pi] + ".momentum", buf_[gi][pi], source));
}

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& cfg, std::vector<ParamGroup> groups) {
  if (cfg.type == "adamw") return std::make_unique<AdamW>(std::move(groups), cfg.beta1, cfg.beta2, cfg.eps);
  if (cfg.type == "sgd") return std::make_unique<Sgd>(std::move(groups), cfg.momentum, cfg.nesterov);
  throw UserError("unknown optimizer '" + cfg.type + "'", "use adamw or sgd");
}

std::vector<ParamGroup> default_param_groups(ModelImpl& model, double weight_decay,
                                             const std::function<double(const std::string&)>& lr_mult) {
  // Key: (lr_mult, decays?) -> group, in first-seen order.
  std::vector<ParamGroup> groups;
  std::map<std::pair<double, bool>, size_t> index;
  for (const auto& np : model.named_parameters(true)) {
    const auto& p = np.value();
    if (!p.requires_grad()) continue;
    const bool decay = !model.no_weight_decay(np.key(), p);
    const double mult = lr_mult(np.key());
    auto key = std::make_pair(mult, decay);
    auto it = index.find(key);
    if (it == index.end()) {
      ParamGroup g;
      g.name =
          std::string(decay ? "decay" : "no_decay") + (mult != 1.0 ? "@lr_x" + std::to_string(mult) : "");
      g.lr_mult = mult;
      g.weight_decay = decay ? weight_decay : 0.0;
      it = index.emplace(key, groups.size()).first;
      groups.push_back(std::move(g));
    }
    groups[it->second].names.push_back(np.key());
    groups[it->second].params.push_back(p);
  }
  return groups;
}

}  // namespace ptft
