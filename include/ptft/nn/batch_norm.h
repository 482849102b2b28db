// ptft/nn/batch_norm.h — 2-d batch normalisation that stays in eval mode while frozen.
//
// torch.nn.BatchNorm2d exactly (same parameter and buffer names: weight, bias, running_mean,
// running_var, num_batches_tracked (int64 scalar); eps 1e-5, momentum 0.1), except that a layer
// whose weight and bias both do not require grad normalises with its running statistics and
// leaves them untouched even when the module is in training mode. Fine-tuning with a frozen
// backbone thus keeps the pre-trained statistics, which small or differently distributed batches
// would otherwise overwrite. requires_grad is read at every forward, so gradual unfreezing that
// flips it mid-run takes effect at the next step.
//
//   nn::BatchNorm2d bn(nn::BatchNorm2dOptions(64));
//   y = bn->forward(x);                  // (B,64,H,W) -> (B,64,H,W)
//   bn->weight.requires_grad_(false); bn->bias.requires_grad_(false);   // now frozen: eval statistics
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

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

  // Neither weight nor bias requires grad: running statistics in every mode, never updated.
  bool frozen() const { return !weight.requires_grad() && !bias.requires_grad(); }

  BatchNorm2dOptions options;
  torch::Tensor weight;               // (C) gamma, 1 at init
  torch::Tensor bias;                 // (C) beta, 0 at init
  torch::Tensor running_mean;         // (C) buffer, 0 at init
  torch::Tensor running_var;          // (C) buffer, 1 at init (unbiased batch variance)
  torch::Tensor num_batches_tracked;  // () int64 buffer: training-mode batches seen
};
TORCH_MODULE(BatchNorm2d);

}  // namespace ptft::nn
