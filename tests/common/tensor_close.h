// tests/common/tensor_close.h — element-wise comparison of a result with its reference, for the
// kernel tests: |got - want| <= atol + rtol |want| everywhere, else the first offending element.
//
//   test::expect_close(y, y_ref, 1e-5, 1e-30, "forward");
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ptft::test {

inline void expect_close(const torch::Tensor& got, const torch::Tensor& want, double rtol, double atol,
                         const char* what) {
  const auto g = got.to(torch::kDouble).reshape(-1), w = want.to(torch::kDouble).reshape(-1);
  ASSERT_EQ(g.numel(), w.numel()) << what << ": sizes differ";
  const auto bad = ((g - w).abs() > atol + rtol * w.abs()).logical_or(g.isnan() != w.isnan()).nonzero();
  ASSERT_EQ(bad.size(0), 0) << what << ": " << bad.size(0) << " of " << g.numel() << " values off, first at index "
                            << bad[0].item<int64_t>() << ": " << g[bad[0].item<int64_t>()].item<double>() << " vs "
                            << w[bad[0].item<int64_t>()].item<double>();
}

// expect_close with the absolute tolerance of one bf16 step of want's largest value (2^-8 of it):
// for results rounded to bf16 once.
inline void expect_close_bf16(const torch::Tensor& got, const torch::Tensor& want, double rtol, const char* what) {
  expect_close(got, want, rtol, want.abs().max().item<double>() / 256, what);
}

// The share of elements of got equal to want (as doubles).
inline double share_equal(const torch::Tensor& got, const torch::Tensor& want) {
  return got.to(torch::kDouble).eq(want.to(torch::kDouble)).to(torch::kDouble).mean().item<double>();
}

}  // namespace ptft::test
