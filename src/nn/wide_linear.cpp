#include "ptft/nn/wide_linear.h"

#include <ATen/record_function.h>

#include "linear_op_parts.h"

namespace ptft::nn {

torch::Tensor wide_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  RECORD_FUNCTION("ptft::wide_linear", std::vector<c10::IValue>({x, weight}));
  return blocked_linear(x, weight, bias, /*block=*/4096);  // output columns per GEMM (rows of W)
}

}  // namespace ptft::nn
