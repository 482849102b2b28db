// ptft/nn/rms_norm.h — root-mean-square layer norm (Zhang & Sennrich 2019), as Llama, Qwen and
// Mistral use it: y = w * x / sqrt(mean(x^2) + eps), no mean subtraction, no bias. Computed in
// float32 whatever the input's dtype (as HF's LlamaRMSNorm), the result cast back before the
// weight multiplies it.
//
//   nn::RmsNorm norm(nn::RmsNormOptions(4096).eps(1e-5));   // parameter "weight" (C), init 1
//   y = norm->forward(x);                                      // (..., C) -> (..., C)
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

struct RmsNormOptions {
  explicit RmsNormOptions(int64_t dim) : dim_(dim) {}
  TORCH_ARG(int64_t, dim);
  TORCH_ARG(double, eps) = 1e-6;
};

class RmsNormImpl : public torch::nn::Cloneable<RmsNormImpl> {
 public:
  explicit RmsNormImpl(RmsNormOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  RmsNormOptions options;
  torch::Tensor weight;  // (C)
};
TORCH_MODULE(RmsNorm);

}  // namespace ptft::nn
