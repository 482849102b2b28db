// ptft/nn/stacked_bf16.h — projections that read the same input (q, k, v; gate, up), held for
// decode steps as one bfloat16 matrix of their stacked rows: one nn::bf16_gemv, one pass of the
// threads and one output per step instead of one per projection. Each projection's
// `weight_bf16` becomes a view of its rows (no second copy), so a prompt (several rows) still
// runs each projection's own GEMM.
//
//   nn::StackedBf16 qkv;
//   qkv.stack({q_proj.get(), k_proj.get(), v_proj.get()});   // after each hold_bf16_copy()
//   if (qkv.reads(x)) auto parts = qkv.forward(x);           // x (..., in), one row -> {q, k, v}
#pragma once

#include <torch/torch.h>

#include <vector>

#include "ptft/nn/linear.h"

namespace ptft::nn {

class StackedBf16 {
 public:
  // Stacks the parts when every one holds a bf16 copy of the same width and none has a LoRA
  // adapter (whose term the stacked product would skip); otherwise leaves them as they are.
  void stack(const std::vector<LinearImpl*>& parts);
  // Whether forward applies: stacked, one row of x, gradients off.
  bool reads(const torch::Tensor& x) const;
  // x (..., in) with one row -> each part's output (..., out_i), float32.
  std::vector<torch::Tensor> forward(const torch::Tensor& x) const;

 private:
  torch::Tensor weight_;  // (sum out_i, in) bfloat16
  torch::Tensor bias_;    // (sum out_i) float32 (zeros for a part without bias), or undefined
  std::vector<int64_t> sizes_;
};

}  // namespace ptft::nn
