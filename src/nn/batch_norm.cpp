#include "ptft/nn/batch_norm.h"

#include "ptft/core/error.h"

namespace ptft::nn {

BatchNorm2dImpl::BatchNorm2dImpl(BatchNorm2dOptions opts) : options(std::move(opts)) { reset(); }

void BatchNorm2dImpl::reset() {
  const int64_t C = options.num_features();
  weight = register_parameter("weight", torch::ones({C}));
  bias = register_parameter("bias", torch::zeros({C}));
  running_mean = register_buffer("running_mean", torch::zeros({C}));
  running_var = register_buffer("running_var", torch::ones({C}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) {
  PTFT_CHECK(x.dim() == 4 && x.size(1) == options.num_features(),
             "BatchNorm2d(" + std::to_string(options.num_features()) + ") got input of shape " + c10::str(x.sizes()));
  const bool batch_stats = is_training() && !frozen();
  if (batch_stats) {
    torch::NoGradGuard ng;
    num_batches_tracked.add_(1);
  }
  // With training=true, batch_norm normalises by the batch statistics and updates the running
  // ones in place; with false it uses (and never touches) the running ones.
  return torch::batch_norm(x, weight, bias, running_mean, running_var, batch_stats, options.momentum(),
                           options.eps(), /*cudnn_enabled=*/true);  // (B,C,H,W)
}

}  // namespace ptft::nn
