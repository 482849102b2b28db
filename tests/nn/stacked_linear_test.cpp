// nn::StackedLinear (projections that read the same input as one product) against each part's
// own forward: weights that train, in double, output and every gradient within 1e-12; LoRA parts
// with frozen weights under CPU bf16 autocast within bf16 rounding (outputs 2e-2 relative to their
// size, gradients of x, A and B likewise), the frozen stack renewed when a weight changes; and the
// cases that take each part's forward (one row, adapter dropout in training, parts that differ),
// equal bit for bit. Each stacked case checks that the stacked op ran (the outputs' autograd node).
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

TEST(StackedLinear, TrainingWeightsInDoubleEqualEachPartsForwardAndGradients) {
  torch::manual_seed(3);
  auto ps = parts(torch::kDouble, /*bias=*/true);
  const auto x = torch::randn({2, 5, 10}, torch::kDouble).requires_grad_(true);
  nn::StackedLinear stack;
  const auto got = stack.forward(raw(ps), x);
  std::vector<torch::Tensor> want, of{x};
  for (auto& p : ps) {
    want.push_back(p->forward(x));
    of.push_back(p->weight);
    of.push_back(p->bias);
  }
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(stacked(got[i]));
    test::expect_close(got[i], want[i], 1e-12, 1e-12, ("output " + std::to_string(i)).c_str());
  }
  const auto gg = grads(got, of), gw = grads(want, of);
  for (size_t i = 0; i < of.size(); ++i) test::expect_close(gg[i], gw[i], 1e-12, 1e-12, ("gradient " + std::to_string(i)).c_str());
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
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(stacked(got[i]));
      EXPECT_EQ(got[i].scalar_type(), torch::kBFloat16);
      const double scale = want[i].abs().max().item<double>();
      test::expect_close(got[i].to(torch::kFloat), want[i].to(torch::kFloat), 0, 2e-2 * scale, ("output " + std::to_string(i)).c_str());
    }
    const auto gg = grads(got, of), gw = grads(want, of);
    for (size_t i = 0; i < of.size(); ++i) {
      ASSERT_TRUE(gg[i].defined()) << i;
      EXPECT_EQ(gg[i].scalar_type(), torch::kFloat);
      const double scale = gw[i].abs().max().item<double>();
      test::expect_close(gg[i], gw[i], 0, 3e-2 * scale, ("gradient " + std::to_string(i)).c_str());
    }
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
