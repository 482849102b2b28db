// ptft/nn/batch_norm.h — 2-d batch normalisation that stays in eval mode while frozen, fused with
// the residual add and ReLU that follow it in a ResNet.
//
// torch.nn.BatchNorm2d exactly (same parameter and buffer names: weight, bias, running_mean,
// running_var, num_batches_tracked (int64 scalar); eps 1e-5, momentum 0.1), except that a layer
// whose weight and bias both do not require grad normalises with its running statistics and
// leaves them untouched even when the module is in training mode. Fine-tuning with a frozen
// backbone thus keeps the pre-trained statistics, which small or differently distributed batches
// would otherwise overwrite. requires_grad is read at every forward, so gradual unfreezing that
// flips it mid-run takes effect at the next step.
//
// On the CPU, for fp32 or bf16 channels-last input (the layout ptft's convolutional models run
// in), one fused op (nn/batch_norm_kernel.h): statistics in one pass, normalise + add + ReLU in
// a second, and two passes backward; nothing saved but the input, the output (for the ReLU) and
// two values per channel. Otherwise libtorch's batch_norm, add and relu, the same function.
//
//   nn::BatchNorm2d bn(nn::BatchNorm2dOptions(64));
//   y = bn->forward(x);                      // (B,64,H,W) -> (B,64,H,W)
//   y = bn->forward_relu(x, shortcut);       // relu(bn(x) + shortcut); shortcut may be undefined
//   bn->weight.requires_grad_(false); bn->bias.requires_grad_(false);   // now frozen: eval statistics
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// y = act(batch_norm(x) [+ residual]), act = ReLU (relu) or the identity. x (B,C,H,W), residual
// undefined or x's shape; batch_stats: normalise by the batch's statistics and update
// running_mean / running_var in place (momentum; unbiased variance), else by the running ones.
torch::Tensor batch_norm_act(const torch::Tensor& x, const torch::Tensor& residual, const torch::Tensor& weight,
                             const torch::Tensor& bias, const torch::Tensor& running_mean,
                             const torch::Tensor& running_var, bool batch_stats, double momentum, double eps,
                             bool relu);

struct BatchNorm2dOptions {
  explicit BatchNorm2dOptions(int64_t num_features) : num_features_(num_features) {}
  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(double, eps) = 1e-5;
  TORCH_ARG(double, momentum) = 0.1;  // running = (1 - momentum) * running + momentum * batch
};

class BatchNorm2dImpl : public torch::nn::Cloneable<BatchNorm2dImpl> {
 public:
  explicit BatchNorm2dImpl(BatchNorm2dOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // (B,C,H,W) -> (B,C,H,W)
  // relu(forward(x) + residual), residual undefined or (B,C,H,W).
  torch::Tensor forward_relu(const torch::Tensor& x, const torch::Tensor& residual = {});

  // Neither weight nor bias requires grad: running statistics in every mode, never updated.
  bool frozen() const { return !weight.requires_grad() && !bias.requires_grad(); }

  BatchNorm2dOptions options;
  torch::Tensor weight;               // (C) gamma, 1 at init
  torch::Tensor bias;                 // (C) beta, 0 at init
  torch::Tensor running_mean;         // (C) buffer, 0 at init
  torch::Tensor running_var;          // (C) buffer, 1 at init (unbiased batch variance)
  torch::Tensor num_batches_tracked;  // () int64 buffer: training-mode batches seen

 private:
  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& residual, bool relu);
};
TORCH_MODULE(BatchNorm2d);

}  // namespace ptft::nn
