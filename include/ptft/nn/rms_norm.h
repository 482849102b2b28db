// ptft/nn/rms_norm.h — root-mean-square layer norm (Zhang & Sennrich 2019), as Llama, Qwen and
// Mistral use it: y = w * x / sqrt(mean(x^2) + eps), no mean subtraction, no bias. Computed in
// float32 whatever the input's dtype (as HF's LlamaRMSNorm), the result cast back before the
// weight multiplies it.
//
//   nn::RmsNorm norm(nn::RmsNormOptions(4096).eps(1e-5));   // parameter "weight" (C), init 1
//   y = norm->forward(x);                                      // (..., C) -> (..., C)
//   y = nn::rms_norm(x, weight, eps);                          // the same as a function
//
// On the CPU with an fp32 weight and fp32 or bf16 x, one fused op (nn/rms_norm_kernel.h: one
// pass forward, one backward, nothing saved but x and one scale per row); otherwise libtorch's
// ops, the same formula.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

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
