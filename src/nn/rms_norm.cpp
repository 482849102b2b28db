#include "ptft/nn/rms_norm.h"

namespace ptft::nn {

RmsNormImpl::RmsNormImpl(RmsNormOptions opts) : options(std::move(opts)) { reset(); }

void RmsNormImpl::reset() { weight = register_parameter("weight", torch::ones({options.dim()})); }

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  auto h = x.to(torch::kFloat32);                                                  // (..., C)
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + options.eps());       // (..., C)
  return weight * h.to(x.scalar_type());
}

}  // namespace ptft::nn
