#include "ptft/nn/frozen_cast.h"

#include "ptft/core/compat.h"

namespace ptft::nn {

const torch::Tensor& FrozenCast::of(const torch::Tensor& weight) {
  if (!weight.defined() || weight.requires_grad() || !weight.is_cpu() || weight.scalar_type() != torch::kFloat32 ||
      compat::matmul_dtype(weight) != at::kBFloat16) {
    cast_ = torch::Tensor();
    return weight;
  }
  const CastSource source = CastSource::of(weight);
  if (!cast_.defined() || !(source_ == source)) {
    torch::NoGradGuard ng;
    cast_ = weight.detach().to(torch::kBFloat16);
    source_ = source;
  }
  return cast_;
}

}  // namespace ptft::nn
