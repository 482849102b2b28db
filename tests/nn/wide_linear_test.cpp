// nn::wide_linear (a projection to a vocabulary in blocks of output columns) against
// torch::nn::functional::linear: in double within 1e-12, output and the gradients of x, W and b,
// with a last block shorter than the others; under CPU bf16 autocast bf16 out, float32 gradients,
// within one bf16 step of autocast's own linear; nn::linear sends weights of >= kWideLinearRows
// rows there. A frozen weight gets no gradient.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "../common/tensor_close.h"
#include "ptft/nn/linear.h"
#include "ptft/nn/wide_linear.h"

namespace ptft {
namespace {

namespace F = torch::nn::functional;

std::vector<torch::Tensor> grads_of(const torch::Tensor& y, const torch::Tensor& r, const std::vector<torch::Tensor>& of) {
  return torch::autograd::grad({(y.to(torch::kDouble) * r).sum()}, of, {}, /*retain_graph=*/true);
}

TEST(WideLinear, DoubleEqualsTorchLinearOutputAndGradients) {
  torch::manual_seed(21);
  const int64_t rows = 2 * 4096 + 77;  // two full blocks and a short one
  const auto opt = torch::dtype(torch::kDouble).requires_grad(true);
  auto x = torch::randn({2, 3, 6}, opt), w = torch::randn({rows, 6}, opt), b = torch::randn({rows}, opt);
  for (bool with_bias : {true, false}) {
    const auto bias = with_bias ? b : torch::Tensor();
    const auto y = nn::wide_linear(x, w, bias), want = F::linear(x, w, bias);
    EXPECT_EQ(y.sizes(), want.sizes());
    test::expect_close(y, want, 1e-12, 1e-12, "output");
    const auto r = torch::randn_like(want);
    std::vector<torch::Tensor> of{x, w};
    if (with_bias) of.push_back(b);
    const auto got = grads_of(y, r, of), ref = grads_of(want, r, of);
    for (size_t i = 0; i < of.size(); ++i) test::expect_close(got[i], ref[i], 1e-12, 1e-12, "gradient");
  }
}

TEST(WideLinear, Bf16AutocastIsWithinABf16StepOfAutocastsLinear) {
  torch::manual_seed(22);
  auto x = torch::randn({4, 16}).requires_grad_(true), w = torch::randn({nn::kWideLinearRows, 16}).requires_grad_(true);
  const auto run = [&](bool wide) {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    auto y = wide ? nn::wide_linear(x, w) : F::linear(x, w);
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    return y;
  };
  const auto y = run(true), want = run(false);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  test::expect_close_bf16(y, want, 1.0 / 128, "output");
  const auto r = torch::randn(want.sizes(), torch::kDouble);
  const auto got = grads_of(y, r, {x, w}), ref = grads_of(want, r, {x, w});
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].scalar_type(), torch::kFloat) << i;
    test::expect_close_bf16(got[i], ref[i], 1.0 / 64, "gradient");
  }
}

TEST(WideLinear, LinearTakesItForVocabularySizedWeightsAndAFrozenWeightGetsNoGradient) {
  torch::manual_seed(23);
  const auto x = torch::randn({5, 8}).requires_grad_(true), w = torch::randn({nn::kWideLinearRows + 3, 8});
  const auto y = nn::linear(x, w);
  ASSERT_TRUE(y.grad_fn());
  // The blocked op (which nn::dense_linear shares, but only for bf16 weights that train: not here).
  EXPECT_NE(y.grad_fn()->name().find("BlockedLinear"), std::string::npos) << y.grad_fn()->name();  // routed there
  EXPECT_EQ(nn::linear(x, w.narrow(0, 0, nn::kWideLinearRows - 1)).grad_fn()->name().find("BlockedLinear"),
            std::string::npos);  // one row fewer: libtorch's linear
  test::expect_close(y, F::linear(x, w), 1e-5, 1e-5, "output");
  y.sum().backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  test::expect_close(x.grad(), w.sum(0).expand({5, 8}), 1e-4, 1e-4, "input gradient");
}

}  // namespace
}  // namespace ptft
