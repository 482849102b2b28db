// nn::StackedLinear (projections that read the same input as one product) against each part's
// own forward under CPU bf16 autocast: weights that train (outputs within 1e-2 of their size,
// gradients of x, W and b within 3e-2), LoRA parts with frozen weights (outputs 2e-2, gradients of
// x, A and B 3e-2), the frozen stack renewed when a weight changes; and the cases that take each
// part's forward (no autocast, one row, adapter dropout in training, parts that differ), equal bit
// for bit. Each stacked case checks that the stacked op ran (the outputs' autograd node).
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "ptft/core/compat.h"
#include "ptft/nn/linear.h"
#include "ptft/nn/stacked_linear.h"
#include "../common/tensor_close.h"

namespace ptft {
namespace {

// q|k|v-like parts: widths 8, 4, 4 reading 10 inputs.
std::vector<nn::Linear> parts(torch::ScalarType type, bool bias) {
  std::vector<nn::Linear> ps;
  for (int64_t out : {8, 4, 4}) {
    ps.emplace_back(nn::LinearOptions(10, out).bias(bias));
    ps.back()->to(type);
    if (bias) torch::NoGradGuard(), ps.back()->bias.uniform_(-1, 1);
  }
  return ps;
}

std::vector<nn::LinearImpl*> raw(std::vector<nn::Linear>& ps) {
  std::vector<nn::LinearImpl*> r;
  for (auto& p : ps) r.push_back(p.get());
  return r;
}

// Adds adapters with nonzero B (their products count) and freezes the base weights.
void add_adapters(std::vector<nn::Linear>& ps, double dropout = 0.0) {
  for (auto& p : ps) {
    p->add_lora(3, 6.0, dropout);
    torch::NoGradGuard ng;
    p->lora_B->weight.normal_();
    p->weight.requires_grad_(false);
    if (p->bias.defined()) p->bias.requires_grad_(false);
  }
}

std::vector<torch::Tensor> grads(const std::vector<torch::Tensor>& ys, const std::vector<torch::Tensor>& of) {
  torch::Tensor loss = torch::zeros({}, torch::kDouble);
  for (size_t i = 0; i < ys.size(); ++i) loss = loss + (ys[i].to(torch::kDouble) * (static_cast<double>(i) + 1.5)).pow(2).sum();
  return torch::autograd::grad({loss}, of, {}, /*retain_graph=*/false, false, /*allow_unused=*/true);
}

bool stacked(const torch::Tensor& y) { return y.grad_fn() && y.grad_fn()->name().find("Split") != std::string::npos; }

// Outputs within 1e-2 of their largest value (one bf16 step is 2^-8 = 3.9e-3 relative), gradients
// within 3e-2 of theirs: the stacked and the parts' bf16 GEMMs differ in summation order and in
// where fp32 sums are rounded (dx: one GEMM's sum vs three rounded products added by the engine).
void expect_near_each(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want, double rel,
                      const char* what) {
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].defined()) << what << " " << i;
    const double scale = want[i].abs().max().item<double>();
    test::expect_close(got[i].to(torch::kFloat), want[i].to(torch::kFloat), 0, rel * scale,
                       (std::string(what) + " " + std::to_string(i)).c_str());
  }
}

// The stacked outputs `got` against each part's own `want`: the stacked op ran, bf16 outputs within
// out_rel, float32 gradients with respect to `of` within 3e-2.
void expect_stacked_matches(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want,
                            const std::vector<torch::Tensor>& of, double out_rel) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& y : got) {
    EXPECT_TRUE(stacked(y));
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  }
  expect_near_each(got, want, out_rel, "output");
  const auto gg = grads(got, of), gw = grads(want, of);
  for (const auto& g : gg) EXPECT_EQ(g.scalar_type(), torch::kFloat);
  expect_near_each(gg, gw, 3e-2, "gradient");
}

TEST(StackedLinear, TrainingWeightsUnderBf16AutocastMatchEachPartsForwardAndGradients) {
  torch::manual_seed(3);
  auto ps = parts(torch::kFloat, /*bias=*/true);
  const auto x = torch::randn({2, 5, 10}).requires_grad_(true);
  nn::StackedLinear stack;
  compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
  const auto got = stack.forward(raw(ps), x);
  std::vector<torch::Tensor> want, of{x};
  for (auto& p : ps) {
    want.push_back(p->forward(x));
    of.push_back(p->weight);
    of.push_back(p->bias);
  }
  ASSERT_EQ(got.size(), 3u);
  expect_stacked_matches(got, want, of, 1e-2);
}

TEST(StackedLinear, LoraPartsUnderBf16AutocastMatchEachPartsAndRenewTheFrozenStack) {
  torch::manual_seed(4);
  auto ps = parts(torch::kFloat, /*bias=*/true);
  add_adapters(ps);
  const auto x = torch::randn({2, 5, 10}).requires_grad_(true);
  nn::StackedLinear stack;
  compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
  for (int round = 0; round < 2; ++round) {  // the second after a base weight changed in place
    const auto got = stack.forward(raw(ps), x);
    std::vector<torch::Tensor> want, of{x};
    for (auto& p : ps) {
      want.push_back(p->forward(x));
      of.push_back(p->lora_A->weight);
      of.push_back(p->lora_B->weight);
    }
    ASSERT_EQ(got.size(), 3u);
    expect_stacked_matches(got, want, of, 2e-2);
    torch::NoGradGuard ng;
    ps[1]->weight.mul_(-2.0);
  }
}

TEST(StackedLinear, OneRowDropoutAndUnlikePartsTakeEachPartsForward) {
  torch::manual_seed(5);
  auto check = [](std::vector<nn::Linear>& ps, const torch::Tensor& x, const std::string& what) {
    nn::StackedLinear stack;
    torch::manual_seed(9);
    const auto got = stack.forward(raw(ps), x);
    torch::manual_seed(9);
    for (size_t i = 0; i < ps.size(); ++i) {
      EXPECT_FALSE(stacked(got[i])) << what;
      EXPECT_TRUE(torch::equal(got[i], ps[i]->forward(x))) << what << ": part " << i;
    }
  };
  auto ps = parts(torch::kFloat, true);
  check(ps, torch::randn({2, 5, 10}), "no autocast: nothing cast that the stack would replace");
  compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
  check(ps, torch::randn({1, 1, 10}), "one row");
  auto dropped = parts(torch::kFloat, true);
  add_adapters(dropped, /*dropout=*/0.5);
  for (auto& p : dropped) p->train();
  check(dropped, torch::randn({2, 5, 10}), "adapter dropout while training");
  auto unlike = parts(torch::kFloat, true);
  unlike[2] = nn::Linear(nn::LinearOptions(10, 4).bias(false));
  check(unlike, torch::randn({2, 5, 10}), "one part without bias");
}

}  // namespace
}  // namespace ptft
