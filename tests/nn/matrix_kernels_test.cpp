// The 16-bit matrix kernels behind nn::dense_linear's backward: nn::transpose16 gives torch's
// t().contiguous() bit for bit (shapes with partial 8 x 8 blocks and 64 x 64 tiles, rows of a
// wider matrix, one and two threads); nn::column_sums_bf16 gives the float64 column sums of the
// bf16 values within fp32 rounding (1e-5 relative) and the same bits on any thread count.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ptft/nn/column_sum_kernel.h"
#include "ptft/nn/transpose_kernel.h"

namespace ptft {
namespace {

torch::Tensor transpose_with_kernel(const torch::Tensor& m) {  // (R, C) bf16, rows contiguous -> (C, R)
  auto out = torch::empty({m.size(1), m.size(0)}, m.options());
  nn::transpose16(static_cast<const uint16_t*>(m.data_ptr()), m.stride(0), static_cast<uint16_t*>(out.data_ptr()),
                  m.size(0), m.size(0), m.size(1));
  return out;
}

torch::Tensor column_sums(const torch::Tensor& m) {  // (R, C) bf16 -> (C) float
  auto out = torch::empty({m.size(1)});
  nn::column_sums_bf16(static_cast<const uint16_t*>(m.data_ptr()), m.stride(0), m.size(0), m.size(1),
                       out.data_ptr<float>());
  return out;
}

TEST(Transpose16, EqualsTorchsTransposeForAnyShape) {
  torch::manual_seed(1);
  for (auto [r, c] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {1, 9}, {7, 1}, {8, 8}, {13, 70}, {64, 64}, {65, 129}, {130, 9}, {200, 333}, {1024, 72}}) {
    const auto m = torch::randn({r, c}).to(torch::kBFloat16);
    EXPECT_TRUE(torch::equal(transpose_with_kernel(m), m.t().contiguous())) << r << " x " << c;
  }
}

TEST(Transpose16, ReadsRowsOfAWiderMatrixOnAnyThreadCount) {
  torch::manual_seed(2);
  const auto wide = torch::randn({150, 300}).to(torch::kBFloat16);
  const auto block = wide.narrow(1, 37, 100);  // rows 300 apart
  const int threads = torch::get_num_threads();
  for (int t : {1, 2}) {
    torch::set_num_threads(t);
    EXPECT_TRUE(torch::equal(transpose_with_kernel(block), block.t().contiguous())) << t;
  }
  torch::set_num_threads(threads);
}

TEST(ColumnSumsBf16, AreTheFloat64SumsWithinFp32RoundingOnAnyThreadCount) {
  torch::manual_seed(3);
  const auto wide = torch::randn({1000, 400}).to(torch::kBFloat16);
  const auto m = wide.narrow(1, 3, 390);  // 390 columns: three full blocks of 128 and a partial one
  const auto want = m.to(torch::kDouble).sum(0);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = column_sums(m);
  torch::set_num_threads(2);
  const auto two = column_sums(m);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
  const double scale = m.to(torch::kDouble).abs().sum(0).max().item<double>();
  EXPECT_LT((one.to(torch::kDouble) - want).abs().max().item<double>() / scale, 1e-5);
}

}  // namespace
}  // namespace ptft
