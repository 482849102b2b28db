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

// The share of elements of got equal to want (as doubles).
inline double share_equal(const torch::Tensor& got, const torch::Tensor& want) {
  return got.to(torch::kDouble).eq(want.to(torch::kDouble)).to(torch::kDouble).mean().item<double>();
}

}  // namespace ptft::test
