// nn::lora_linear (a projection with its LoRA adapter as one autograd op) against the formula
// y = x W^T + b + s (h A^T) B^T: in double within 1e-12 (output and the gradients of x, h, W, b, A,
// B); a frozen W gets no gradient; under CPU bf16 autocast within a few bf16 steps of the double
// result, bf16 out and float32 gradients, as autocast's composition of torch ops gives. nn::Linear
// with an adapter (and adapter dropout) equals the composition it replaced. nn::FrozenCast: a
// frozen weight's bf16 cast under autocast, bit-equal to autocast's, made once per version.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "ptft/nn/dropout.h"
#include "ptft/nn/frozen_cast.h"
#include "ptft/nn/linear.h"
#include "ptft/nn/lora_linear.h"
#include "../common/tensor_close.h"

namespace ptft {
namespace {

namespace F = torch::nn::functional;

struct Operands {
  torch::Tensor x, w, b, a, bb;  // x (2,3,in), W (out,in), b (out), A (r,in), B (out,r)
};

Operands operands(torch::ScalarType type, bool weight_trains) {
  const auto opt = torch::dtype(type);
  Operands o{torch::randn({2, 3, 10}, opt), torch::randn({6, 10}, opt), torch::randn({6}, opt),
             torch::randn({4, 10}, opt), torch::randn({6, 4}, opt)};  // B nonzero: its products count
  o.x.requires_grad_(true);
  o.w.requires_grad_(weight_trains);
  o.b.requires_grad_(weight_trains);
  o.a.requires_grad_(true);
  o.bb.requires_grad_(true);
  return o;
}

// The formula with torch ops (h = x when undefined).
torch::Tensor formula(const Operands& o, double s, const torch::Tensor& h = {}) {
  const auto in = h.defined() ? h : o.x;
  return F::linear(o.x, o.w, o.b) + s * F::linear(F::linear(in, o.a), o.bb);
}

std::vector<torch::Tensor> grads_of(const torch::Tensor& y, const torch::Tensor& r, const std::vector<torch::Tensor>& of) {
  return torch::autograd::grad({(y.to(torch::kDouble) * r).sum()}, of, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
}

TEST(LoraLinear, DoubleEqualsTheFormulaOutputAndEveryGradient) {
  torch::manual_seed(11);
  const double s = 1.5;
  for (bool with_bias : {true, false}) {
    auto o = operands(torch::kDouble, /*weight_trains=*/true);
    if (!with_bias) o.b = torch::Tensor();
    const auto y = nn::lora_linear(o.x, o.w, o.b, o.a, o.bb, s);
    const auto want = formula(o, s);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 6}));
    test::expect_close(y, want, 1e-12, 1e-12, "output");
    const auto r = torch::randn_like(want);
    std::vector<torch::Tensor> of{o.x, o.w, o.a, o.bb};
    if (with_bias) of.push_back(o.b);
    const auto got = grads_of(y, r, of), ref = grads_of(want, r, of);
    for (size_t i = 0; i < of.size(); ++i) test::expect_close(got[i], ref[i], 1e-12, 1e-12, "gradient");
  }
}

TEST(LoraLinear, ADroppedInputFeedsOnlyTheAdapter) {
  torch::manual_seed(12);
  const double s = 0.5;
  auto o = operands(torch::kDouble, /*weight_trains=*/false);
  const auto mask = (torch::rand({2, 3, 10}, torch::kDouble) > 0.3).to(torch::kDouble) / 0.7;
  const auto h = o.x * mask;  // differentiable in x: its gradient reaches x through the mask
  const auto y = nn::lora_linear(o.x, o.w, o.b, o.a, o.bb, s, h);
  const auto want = formula(o, s, h);
  test::expect_close(y, want, 1e-12, 1e-12, "output");
  const auto r = torch::randn_like(want);
  const auto got = grads_of(y, r, {o.x, o.a, o.bb}), ref = grads_of(want, r, {o.x, o.a, o.bb});
  for (size_t i = 0; i < got.size(); ++i) test::expect_close(got[i], ref[i], 1e-12, 1e-12, "gradient");
}

TEST(LoraLinear, AFrozenWeightAndBiasGetNoGradient) {
  torch::manual_seed(13);
  auto o = operands(torch::kFloat, /*weight_trains=*/false);
  nn::lora_linear(o.x, o.w, o.b, o.a, o.bb, 2.0).sum().backward();
  EXPECT_FALSE(o.w.grad().defined());
  EXPECT_FALSE(o.b.grad().defined());
  EXPECT_TRUE(o.x.grad().defined());
  EXPECT_TRUE(o.a.grad().defined());
  EXPECT_TRUE(o.bb.grad().defined());
}

TEST(LoraLinear, Bf16AutocastIsWithinBf16StepsOfTheDoubleResult) {
  torch::manual_seed(14);
  const double s = 2.0;
  auto o = operands(torch::kFloat, /*weight_trains=*/false);
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  const auto y = nn::lora_linear(o.x, o.w, o.b, o.a, o.bb, s);
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  // The reference: the formula in double on the bf16-rounded operands autocast multiplies.
  const auto round = [](const torch::Tensor& t) { return t.detach().to(torch::kBFloat16).to(torch::kDouble).requires_grad_(true); };
  Operands d{round(o.x), round(o.w), round(o.b), round(o.a), round(o.bb)};
  const auto want = formula(d, s);
  test::expect_close(y, want, 1.0 / 64, want.abs().max().item<double>() / 64, "output");  // a few bf16 steps
  const auto r = torch::randn_like(want);
  const auto got = grads_of(y, r, {o.x, o.a, o.bb}), ref = grads_of(want, r, {d.x, d.a, d.bb});
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].scalar_type(), torch::kFloat) << i;  // each in its input's dtype
    test::expect_close(got[i], ref[i], 1.0 / 32, ref[i].abs().max().item<double>() / 32, "gradient");
  }
}

TEST(LoraLinear, LinearWithAnAdapterEqualsTheCompositionItReplaced) {
  for (double dropout : {0.0, 0.4}) {
    torch::manual_seed(15);
    nn::Linear m(nn::LinearOptions(10, 6));
    m->add_lora(4, 8.0, dropout);
    {
      torch::NoGradGuard ng;
      m->lora_B->weight.normal_();  // B starts at zero: make its products count
    }
    m->weight.set_requires_grad(false);
    m->bias.set_requires_grad(false);
    const auto x = torch::randn({2, 3, 10}).requires_grad_(true);
    torch::manual_seed(99);  // the dropout mask's key
    const auto y = m->forward(x);
    ASSERT_TRUE(y.grad_fn());
    EXPECT_NE(y.grad_fn()->name().find("LoraLinear"), std::string::npos) << y.grad_fn()->name();  // the fused op
    torch::manual_seed(99);
    const auto h = nn::dropout(x, dropout, /*training=*/true);
    const auto want = F::linear(x, m->weight, m->bias) + m->lora_scale() * m->lora_B->forward(m->lora_A->forward(h));
    test::expect_close(y, want, 1e-5, 1e-6, "output");
    const auto r = torch::randn_like(want);
    const auto got = grads_of(y, r, {x, m->lora_A->weight, m->lora_B->weight});
    const auto ref = grads_of(want, r, {x, m->lora_A->weight, m->lora_B->weight});
    for (size_t i = 0; i < got.size(); ++i) test::expect_close(got[i], ref[i], 1e-5, 1e-6, "gradient");
  }
}

TEST(FrozenCast, AFrozenWeightUnderBf16AutocastIsCastOncePerVersion) {
  torch::manual_seed(16);
  auto w = torch::randn({5, 7});
  nn::FrozenCast cache;
  EXPECT_TRUE(cache.of(w).is_same(w));  // autocast off: the weight itself
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  const auto first = cache.of(w);
  EXPECT_EQ(first.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(first, w.to(torch::kBFloat16)));  // autocast's rounding
  EXPECT_TRUE(cache.of(w).is_same(first));                    // not cast again
  w.mul_(-3.0);                                               // a new version
  EXPECT_FALSE(cache.of(w).is_same(first));
  EXPECT_TRUE(torch::equal(cache.of(w), w.to(torch::kBFloat16)));
  const auto other = torch::randn({5, 7});  // another tensor, even at the same version
  EXPECT_TRUE(torch::equal(cache.of(other), other.to(torch::kBFloat16)));
  w.requires_grad_(true);  // a weight that trains: autocast casts (and caches) it itself
  EXPECT_TRUE(cache.of(w).is_same(w));
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
}

}  // namespace
}  // namespace ptft
