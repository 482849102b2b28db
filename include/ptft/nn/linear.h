// ptft/nn/linear.h — the one projection every model uses, so that adapters (LoRA) and freezing
// stay out of model code: a TransferPlan finds projections by name and attaches adapters.
//
//   y = x W^T + b                                  (W: (out, in), torch layout)
//   y = x W^T + b + scale * B(A(dropout(x)))       with a LoRA adapter: A (r, in), B (out, r),
//                                                  one autograd op (nn/lora_linear.h)
//
//   nn::Linear proj(nn::LinearOptions(768, 2304));
//   proj->add_lora(/*r=*/8, /*alpha=*/16, /*dropout=*/0.0);  // parameters lora_A.weight, lora_B.weight (PEFT names)
//   proj->merge_lora();                                        // W += scale * B A, adapter removed
#pragma once

#include <torch/torch.h>

#include "ptft/nn/frozen_cast.h"

namespace ptft::nn {

struct LinearOptions {
  LinearOptions(int64_t in, int64_t out) : in_features_(in), out_features_(out) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
};

// torch's linear, x (..., in) W (out, in) b (out) -> (..., out), but a single row (a decode step)
// goes through BLAS's matrix-vector product, which reads W once instead of packing it for a GEMM,
// and on the CPU a weight of >= 16384 rows (a vocabulary) through nn::wide_linear's column blocks;
// rows of more than two dimensions with a bias (contiguous) take one addmm that starts from the bias,
// as torch's linear does for 2-D rows (not the product and then a pass adding the bias).
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {});

class LinearImpl : public torch::nn::Cloneable<LinearImpl> {
 public:
  explicit LinearImpl(LinearOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)

  // LoRA (Hu et al. 2021): B starts at zero so the adapted layer equals the base layer at step 0.
  void add_lora(int64_t r, double alpha, double dropout);
  bool has_lora() const { return !lora_A.is_empty(); }
  // Folds the adapter into the weight (W += scale * B A) and removes it.
  void merge_lora();
  double lora_scale() const { return lora_scale_; }
  double lora_dropout() const { return lora_dropout_; }

  // Generation only, on the CPU: the weight becomes bfloat16 (`weight_bf16`; `weight` is emptied):
  // one-row steps read it with nn::bf16_gemv (half the bytes), longer inputs with libtorch's bf16
  // GEMM; outputs stay float32. The module cannot be trained or saved afterwards. A second call
  // does nothing.
  void hold_bf16_copy();

  LinearOptions options;
  torch::Tensor weight;  // (out, in)
  torch::Tensor weight_bf16;  // (out, in) bfloat16 after hold_bf16_copy(), else undefined
  torch::Tensor bias;    // (out) or undefined
  torch::nn::Linear lora_A{nullptr};  // (r, in), registered as "lora_A" (PEFT name)
  torch::nn::Linear lora_B{nullptr};  // (out, r)

 private:
  double lora_scale_ = 0.0;
  double lora_dropout_ = 0.0;
  FrozenCast frozen_cast_;  // the weight forward multiplies by: itself, or a frozen weight's bf16 cast
};
TORCH_MODULE(Linear);

}  // namespace ptft::nn
