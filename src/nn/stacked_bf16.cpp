#include "ptft/nn/stacked_bf16.h"

#include "ptft/nn/bf16_gemv.h"

namespace ptft::nn {

void StackedBf16::stack(const std::vector<LinearImpl*>& parts) {
  if (parts.empty()) return;
  const int64_t in = parts[0]->options.in_features();
  bool any_bias = false;
  for (const LinearImpl* p : parts) {
    if (!p->weight_bf16.defined() || p->has_lora() || p->options.in_features() != in) return;
    any_bias = any_bias || p->bias.defined();
  }
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> rows, biases;
  sizes_.clear();
  for (const LinearImpl* p : parts) {
    rows.push_back(p->weight_bf16);
    sizes_.push_back(p->weight_bf16.size(0));
    if (any_bias) biases.push_back(p->bias.defined() ? p->bias.detach().to(torch::kFloat)
                                                      : torch::zeros({sizes_.back()}, torch::kFloat));
  }
  weight_ = torch::cat(rows, 0).contiguous();  // (sum out_i, in)
  bias_ = any_bias ? torch::cat(biases, 0).contiguous() : torch::Tensor();
  int64_t row = 0;
  for (size_t i = 0; i < parts.size(); ++i) {  // the parts' copies become views of the stack
    parts[i]->weight_bf16 = weight_.narrow(0, row, sizes_[i]);
    row += sizes_[i];
  }
}

bool StackedBf16::reads(const torch::Tensor& x) const {
  return weight_.defined() && x.numel() == weight_.size(1) && !torch::GradMode::is_enabled();
}

std::vector<torch::Tensor> StackedBf16::forward(const torch::Tensor& x) const {
  const torch::Tensor y = bf16_gemv(weight_, x, bias_);  // (..., sum out_i)
  return y.split_with_sizes(sizes_, -1);
}

}  // namespace ptft::nn
