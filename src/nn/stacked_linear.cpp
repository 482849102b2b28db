#include "ptft/nn/stacked_linear.h"

#include <functional>

#include "ptft/core/compat.h"
#include "ptft/nn/lora_linear.h"

namespace ptft::nn {
namespace {

// Whether the parts can run as one product on x (see the header).
bool stackable(const std::vector<LinearImpl*>& parts, const torch::Tensor& x, bool training) {
  if (parts.size() < 2) return false;
  const LinearImpl& first = *parts[0];
  const torch::Tensor& w0 = first.weight;
  if (!w0.defined() || w0.dim() != 2 || x.numel() == w0.size(1)) return false;  // one row: each part's gemv
  // Only weights that are cast anyway (autocast): the stack then replaces the parts' casts; an
  // uncast stack would be a second copy of the weights (kept for the backward when they train).
  if (compat::matmul_dtype(w0) == w0.scalar_type()) return false;
  const bool frozen = !w0.requires_grad();
  for (const LinearImpl* p : parts) {
    if (p->weight_bf16.defined() || !p->weight.defined() || p->weight.dim() != 2) return false;
    if (p->weight.size(1) != w0.size(1) || p->weight.scalar_type() != w0.scalar_type() ||
        p->weight.device() != w0.device() || p->weight.requires_grad() == frozen)
      return false;
    if (p->bias.defined() != first.bias.defined() || p->has_lora() != first.has_lora()) return false;
    if (p->has_lora() && (p->lora_scale() != first.lora_scale() || (training && p->lora_dropout() > 0)))
      return false;  // one adapter input for all: no per-part dropout masks
  }
  return true;
}

std::vector<torch::Tensor> each(const std::vector<LinearImpl*>& parts, const std::function<torch::Tensor(LinearImpl&)>& f) {
  std::vector<torch::Tensor> out;
  for (LinearImpl* p : parts) out.push_back(f(*p));
  return out;
}

}  // namespace

const torch::Tensor& StackedLinear::frozen_stack(const std::vector<LinearImpl*>& parts, c10::ScalarType type) {
  std::vector<CastSource> sources;
  for (LinearImpl* p : parts) sources.push_back(CastSource::of(p->weight));
  if (!frozen_.defined() || frozen_.scalar_type() != type || sources != sources_) {
    torch::NoGradGuard ng;
    frozen_ = torch::cat(each(parts, [&](LinearImpl& p) { return p.weight.detach().to(type); }));  // (sum out, in)
    sources_ = std::move(sources);
  }
  return frozen_;
}

std::vector<torch::Tensor> StackedLinear::forward(const std::vector<LinearImpl*>& parts, const torch::Tensor& x) {
  const bool training = parts[0]->is_training();
  if (!stackable(parts, x, training)) return each(parts, [&](LinearImpl& p) { return p.forward(x); });
  const torch::Tensor& w0 = parts[0]->weight;
  const auto type = compat::matmul_dtype(w0);
  if (w0.requires_grad()) frozen_ = torch::Tensor();  // unfrozen (finetune.unfreeze_after): the stack goes
  const torch::Tensor w = w0.requires_grad()
                              ? torch::cat(each(parts, [&](LinearImpl& p) { return p.weight.to(type); }))  // (sum out, in)
                              : frozen_stack(parts, type);
  const torch::Tensor b = parts[0]->bias.defined() ? torch::cat(each(parts, [](LinearImpl& p) { return p.bias; }))
                                                   : torch::Tensor();  // (sum out)
  torch::Tensor y;  // (..., sum out)
  if (parts[0]->has_lora()) {
    const auto a = torch::cat(each(parts, [](LinearImpl& p) { return p.lora_A->weight; }));          // (sum r, in)
    const auto bd = torch::block_diag(each(parts, [](LinearImpl& p) { return p.lora_B->weight; }));  // (sum out, sum r)
    y = lora_linear(x, w, b, a, bd, parts[0]->lora_scale());
  } else {
    y = linear(x, w, b);
  }
  std::vector<int64_t> sizes;
  for (LinearImpl* p : parts) sizes.push_back(p->weight.size(0));
  return y.split_with_sizes(sizes, -1);
}

}  // namespace ptft::nn
