// nn::bf16_gemv against the float32 product of the same bf16-rounded weights (relative 1e-5:
// only the summation order differs) — with x rounded to bf16 too where the kernel does that
// (avx512_bf16) — for widths that hit every tail of the vector loops, with and without bias; the
// kernel chosen is named; bad shapes are errors.
#include <gtest/gtest.h>

#include "ptft/core/error.h"
#include "ptft/nn/bf16_gemv.h"

namespace ptft {
namespace {

TEST(Bf16Gemv, EqualsTheFloatProductOfTheRoundedWeights) {
  torch::manual_seed(5);
  for (int64_t in : {1, 7, 16, 31, 32, 33, 48, 576, 1000}) {
    for (int64_t out : {1, 3, 64, 200}) {
      auto w16 = torch::randn({out, in}).to(torch::kBFloat16);
      auto x = torch::randn({in}), b = torch::randn({out});
      const auto xk = nn::bf16_gemv_rounds_x() ? x.to(torch::kBFloat16).to(torch::kFloat32) : x;  // x as the kernel sees it
      auto want = torch::mv(w16.to(torch::kFloat32), xk);
      auto got = nn::bf16_gemv(w16, x);
      ASSERT_EQ(got.sizes(), want.sizes());
      const double scale = want.abs().max().item<double>() + 1e-6;
      EXPECT_LT((got - want).abs().max().item<double>() / scale, 1e-5) << "in " << in << " out " << out;
      auto with_bias = nn::bf16_gemv(w16, x.view({1, 1, in}), b);
      ASSERT_EQ(with_bias.sizes(), (std::vector<int64_t>{1, 1, out}));  // x's leading shape kept
      EXPECT_LT((with_bias - (want + b)).abs().max().item<double>() / scale, 1e-5) << "in " << in << " out " << out;
    }
  }
  const std::string kernel = nn::bf16_gemv_kernel();
  EXPECT_TRUE(kernel == "avx512_bf16" || kernel == "avx512" || kernel == "avx2" || kernel == "portable") << kernel;
  EXPECT_EQ(nn::bf16_gemv_rounds_x(), kernel == "avx512_bf16");
}

TEST(Bf16Gemv, BadShapesAreErrors) {
  auto w16 = torch::zeros({4, 8}, torch::kBFloat16);
  EXPECT_THROW(nn::bf16_gemv(w16, torch::zeros({7})), Error);
  EXPECT_THROW(nn::bf16_gemv(torch::zeros({4, 8}), torch::zeros({8})), Error);  // float32 weight
}

}  // namespace
}  // namespace ptft
