#include "ptft/nn/dense_linear.h"

#include <ATen/record_function.h>

#include "linear_op_parts.h"

namespace ptft::nn {

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  RECORD_FUNCTION("ptft::dense_linear", std::vector<c10::IValue>({x, weight}));
  return blocked_linear(x, weight, bias, /*block=*/std::max<int64_t>(weight.size(0), 1));  // all rows in one
}

}  // namespace ptft::nn
