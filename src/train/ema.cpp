#include "ptft/train/ema.h"

#include <cmath>

#include "ptft/core/error.h"

namespace ptft {
namespace {

// `dst` <- `src` by name, under no_grad (parameters are leaves that require grad).
void copy_state(const TensorMap& src, torch::nn::Module& model) {
  torch::NoGradGuard ng;
  for (auto& [name, t] : state_dict(model)) t.copy_(src.at(name));
}

}  // namespace

ModelEma::ModelEma(const torch::nn::Module& model, double decay, double tau) : decay_(decay), tau_(tau) {
  PTFT_CHECK(decay > 0 && decay < 1 && tau > 0, "ModelEma needs decay in (0, 1) and tau > 0");
  for (const auto& [name, t] : state_dict(model)) ema_[name] = t.detach().clone();
}

double ModelEma::decay_at(int64_t updates) const {
  return decay_ * (1.0 - std::exp(-static_cast<double>(updates) / tau_));
}

void ModelEma::update(const torch::nn::Module& model) {
  torch::NoGradGuard ng;
  ++updates_;
  const double d = decay_at(updates_);
  for (const auto& [name, v] : state_dict(model)) {
    auto it = ema_.find(name);
    PTFT_CHECK(it != ema_.end(), "ModelEma::update: '" + name + "' is not in the average (the model changed)");
    torch::Tensor& e = it->second;
    if (e.is_floating_point()) e.mul_(d).add_(v.detach(), 1.0 - d);  // ema = d * ema + (1 - d) * v
    else e.copy_(v);
  }
}

void ModelEma::load(const TensorMap& saved, int64_t updates, const std::string& source) {
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, t] : ema_) {
    auto it = saved.find(name);
    if (it == saved.end()) missing.push_back(name);
    else if (it->second.sizes() != t.sizes()) mismatched.push_back(name);
  }
  for (const auto& [name, t] : saved)
    if (!ema_.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string what;
    if (!missing.empty()) what += " missing " + join_first(missing) + ";";
    if (!unexpected.empty()) what += " unexpected " + join_first(unexpected) + ";";
    if (!mismatched.empty()) what += " other shape " + join_first(mismatched) + ";";
    throw UserError(source + ": the saved weight average does not fit the model:" + what,
                    "resume with the run's own config (RUN/config.yaml), or fine-tune from the checkpoint with "
                    "--from instead");
  }
  if (updates < 0) throw UserError(source + ": EMA update count " + std::to_string(updates) + " is negative",
                                   "the file is corrupt; resume from an earlier step-* checkpoint");
  torch::NoGradGuard ng;
  for (auto& [name, t] : ema_) t.copy_(saved.at(name));
  updates_ = updates;
}

void ModelEma::copy_into(torch::nn::Module& model) const { copy_state(ema_, model); }

EmaSwap::EmaSwap(const ModelEma& ema, torch::nn::Module& model) : model_(model) {
  for (const auto& [name, t] : state_dict(model)) raw_[name] = t.detach().clone();
  ema.copy_into(model);
}

EmaSwap::~EmaSwap() { copy_state(raw_, model_); }

}  // namespace ptft
