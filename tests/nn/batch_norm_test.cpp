// Tests for ptft/nn/batch_norm.h: torch::nn::BatchNorm2d's numbers while trainable (outputs,
// running statistics, num_batches_tracked, gradients), and eval behaviour in training mode while
// frozen, switched at forward time by requires_grad. The fused channels-last op
// (nn::batch_norm_act, with residual add and ReLU) against the formula in double: fp32 within
// 1e-5 relative (gradients 1e-4: dx cancels), bf16 within a bf16 step; the same bits on one and
// two threads; the module's fused and libtorch paths against torch::nn::BatchNorm2d.
#include "ptft/nn/batch_norm.h"

#include <gtest/gtest.h>

#include "../common/tensor_close.h"
#include "ptft/core/error.h"
#include "ptft/io/tensor_io.h"

namespace ptft {
namespace {

// A BN pair with identical random affine parameters: ptft's and torch's reference.
struct Pair {
  nn::BatchNorm2d ours{nn::BatchNorm2dOptions(5)};
  torch::nn::BatchNorm2d ref{torch::nn::BatchNorm2dOptions(5)};
  Pair() {
    torch::NoGradGuard ng;
    ours->weight.copy_(torch::rand({5}) + 0.5);
    ours->bias.copy_(torch::randn({5}));
    ref->weight.copy_(ours->weight);
    ref->bias.copy_(ours->bias);
  }
};

TEST(BatchNorm2d, NamesShapesAndInit) {
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(7));
  const TensorMap sd = state_dict(*bn);
  ASSERT_EQ(sd.size(), 5u);
  EXPECT_TRUE(torch::equal(sd.at("weight"), torch::ones({7})));
  EXPECT_TRUE(torch::equal(sd.at("bias"), torch::zeros({7})));
  EXPECT_TRUE(torch::equal(sd.at("running_mean"), torch::zeros({7})));
  EXPECT_TRUE(torch::equal(sd.at("running_var"), torch::ones({7})));
  EXPECT_EQ(sd.at("num_batches_tracked").scalar_type(), torch::kLong);
  EXPECT_EQ(sd.at("num_batches_tracked").dim(), 0);
  EXPECT_EQ(bn->parameters().size(), 2u);  // the statistics are buffers, not parameters
  EXPECT_EQ(bn->options.eps(), 1e-5);
  EXPECT_EQ(bn->options.momentum(), 0.1);
}

TEST(BatchNorm2d, TrainableMatchesTorchInTrainingAndEval) {
  // Reference: torch::nn::BatchNorm2d (eps 1e-5, momentum 0.1); tolerance 1e-6 (same kernels).
  torch::manual_seed(0);
  Pair p;
  for (int step = 0; step < 3; ++step) {
    auto x = torch::randn({4, 5, 3, 2}) * 2 + 1;
    auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
    auto ya = p.ours->forward(a), yb = p.ref->forward(b);
    EXPECT_TRUE(torch::allclose(ya, yb, 1e-6, 1e-6)) << "step " << step;
    (ya * ya.detach().sin()).sum().backward();
    (yb * yb.detach().sin()).sum().backward();
    EXPECT_TRUE(torch::allclose(a.grad(), b.grad(), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(p.ours->weight.grad(), p.ref->weight.grad(), 1e-5, 1e-6));
  }
  EXPECT_TRUE(torch::allclose(p.ours->running_mean, p.ref->running_mean, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(p.ours->running_var, p.ref->running_var, 1e-6, 1e-6));
  EXPECT_EQ(p.ours->num_batches_tracked.item<int64_t>(), 3);
  p.ours->eval();
  p.ref->eval();
  auto x = torch::randn({2, 5, 4, 4});
  EXPECT_TRUE(torch::allclose(p.ours->forward(x), p.ref->forward(x), 1e-6, 1e-6));
  EXPECT_EQ(p.ours->num_batches_tracked.item<int64_t>(), 3);  // eval batches are not tracked
}

TEST(BatchNorm2d, FrozenUsesRunningStatisticsInTrainingMode) {
  torch::manual_seed(1);
  Pair p;
  p.ours->train();
  for (int i = 0; i < 2; ++i) p.ours->forward(torch::randn({8, 5, 3, 3}) * 3 + 2);  // non-trivial statistics
  const auto mean = p.ours->running_mean.clone(), var = p.ours->running_var.clone();
  ASSERT_FALSE(torch::allclose(mean, torch::zeros({5})));

  p.ours->weight.requires_grad_(false);
  p.ours->bias.requires_grad_(false);
  ASSERT_TRUE(p.ours->frozen());
  ASSERT_TRUE(p.ours->is_training());
  auto x = torch::randn({8, 5, 3, 3});
  auto frozen_out = p.ours->forward(x);
  // Eval-mode normalisation, computed by hand: (x - running_mean) / sqrt(running_var + eps) * w + b.
  auto expected = (x - mean.view({1, 5, 1, 1})) / (var.view({1, 5, 1, 1}) + 1e-5).sqrt() *
                      p.ours->weight.view({1, 5, 1, 1}) +
                  p.ours->bias.view({1, 5, 1, 1});
  EXPECT_TRUE(torch::allclose(frozen_out, expected, 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(p.ours->running_mean, mean));
  EXPECT_TRUE(torch::equal(p.ours->running_var, var));
  EXPECT_EQ(p.ours->num_batches_tracked.item<int64_t>(), 2);

  // Only one of the two trainable again (gradual unfreezing may do that): batch statistics.
  p.ours->bias.requires_grad_(true);
  EXPECT_FALSE(p.ours->frozen());
  auto y = p.ours->forward(x);
  EXPECT_FALSE(torch::allclose(y, frozen_out, 1e-3, 1e-3));
  EXPECT_FALSE(torch::equal(p.ours->running_mean, mean));
  EXPECT_EQ(p.ours->num_batches_tracked.item<int64_t>(), 3);
}

TEST(BatchNorm2d, FrozenStillPassesGradientsToTheInput) {
  Pair p;
  p.ours->weight.requires_grad_(false);
  p.ours->bias.requires_grad_(false);
  auto x = torch::randn({2, 5, 2, 2}, torch::requires_grad());
  p.ours->forward(x).sum().backward();
  // Eval normalisation is affine per channel: d/dx = weight / sqrt(running_var + eps).
  auto expected = (p.ours->weight / (p.ours->running_var + 1e-5).sqrt()).view({1, 5, 1, 1}).expand_as(x);
  EXPECT_TRUE(torch::allclose(x.grad(), expected, 1e-6, 1e-6));
}

// --- nn::batch_norm_act: the fused channels-last CPU op (nn/batch_norm_kernel.h) --------------

using test::expect_close;
constexpr auto kCL = at::MemoryFormat::ChannelsLast;

struct ActResult {
  torch::Tensor y, dx, dres, dw, db, running_mean, running_var;
  std::string node;  // the autograd node that made y
};

// The fused op's autograd node (libtorch's path makes ReluBackward0, AddBackward0, ...).
bool fused_node(const std::string& node) { return node.find("BatchNormActOp") != std::string::npos; }

// y = act(bn(x) [+ res]) and the gradients of L = sum(y * c), by nn::batch_norm_act on
// channels-last tensors (ours) or by the formula in libtorch's double ops (the reference; the
// running statistics updated by hand as torch does: unbiased variance, momentum 0.1).
ActResult run_act(const torch::Tensor& x0, const torch::Tensor& res0, const torch::Tensor& w0, const torch::Tensor& b0,
                  const torch::Tensor& c, bool batch_stats, bool relu, bool ours) {
  const auto type = ours ? x0.scalar_type() : torch::kDouble;
  // Fresh leaves (clone: `to` of the same dtype would alias the caller's tensors).
  auto x = x0.detach().to(type).clone(kCL).requires_grad_(true);
  auto res = res0.defined() ? res0.detach().to(type).clone(kCL).requires_grad_(true) : torch::Tensor();
  auto w = w0.detach().to(ours ? torch::kFloat : torch::kDouble).clone().requires_grad_(true);
  auto b = b0.detach().to(w.scalar_type()).clone().requires_grad_(true);
  const int64_t C = x0.size(1);
  auto rm = torch::linspace(-0.5, 0.5, C, w.options().requires_grad(false));
  auto rv = torch::linspace(0.5, 2.0, C, w.options().requires_grad(false));
  torch::Tensor y;
  if (ours) {
    y = nn::batch_norm_act(x, res, w, b, rm, rv, batch_stats, 0.1, 1e-5, relu);
  } else {
    const auto view = [&](const torch::Tensor& t) { return t.view({1, C, 1, 1}); };
    torch::Tensor mean = view(rm), var = view(rv);
    if (batch_stats) {
      mean = x.mean({0, 2, 3}, true);
      var = (x - mean).pow(2).mean({0, 2, 3}, true);
      const double n = static_cast<double>(x.numel() / C);
      torch::NoGradGuard ng;
      rm = rm * 0.9 + mean.flatten() * 0.1;
      rv = rv * 0.9 + var.flatten() * (n / (n - 1)) * 0.1;
    }
    y = (x - mean) / (var + 1e-5).sqrt() * view(w) + view(b);
    if (res.defined()) y = y + res;
    if (relu) y = torch::relu(y);
  }
  const std::string node = y.grad_fn()->name();
  (y * c.to(y.scalar_type())).sum().backward();
  return {y.detach(), x.grad(), res.defined() ? res.grad() : torch::Tensor(), w.grad(), b.grad(), rm, rv, node};
}

struct ActCase {
  int64_t channels;
  bool residual, relu;
};

// Channel counts that fold 64/C rows into one (5: none, 8, 16, 48: none, 64, 96) and batches
// whose row count leaves a remainder of the fold.
const ActCase kActCases[] = {{5, false, true}, {8, true, true}, {16, false, false}, {16, true, true},
                             {48, true, false}, {64, false, true}, {96, true, true}};

TEST(BatchNormAct, Fp32MatchesTheDoubleFormula) {
  for (const auto& k : kActCases) {
    for (bool batch_stats : {true, false}) {
      SCOPED_TRACE("C " + std::to_string(k.channels) + (k.residual ? " +res" : "") + (k.relu ? " relu" : "") +
                   (batch_stats ? " batch" : " running"));
      torch::manual_seed(k.channels);
      const auto x = torch::randn({3, k.channels, 5, 7}) * 2 + 0.7;  // 105 rows: a remainder for every fold
      const auto res = k.residual ? torch::randn({3, k.channels, 5, 7}) : torch::Tensor();
      const auto w = torch::rand({k.channels}) + 0.5, b = torch::randn({k.channels});
      const auto c = torch::randn({3, k.channels, 5, 7});
      const auto got = run_act(x, res, w, b, c, batch_stats, k.relu, true);
      const auto want = run_act(x, res, w, b, c, batch_stats, k.relu, false);
      ASSERT_TRUE(fused_node(got.node)) << got.node;  // the kernels ran, not libtorch's ops
      ASSERT_TRUE(got.y.is_contiguous(kCL));
      expect_close(got.y, want.y, 1e-5, 1e-5, "y");
      expect_close(got.dx, want.dx, 1e-4, 1e-5, "dx");
      if (k.residual) expect_close(got.dres, want.dres, 1e-6, 1e-6, "dres");
      expect_close(got.dw, want.dw, 1e-4, 1e-4, "dweight");
      expect_close(got.db, want.db, 1e-5, 1e-4, "dbias");
      expect_close(got.running_mean, want.running_mean, 1e-5, 1e-6, "running_mean");
      expect_close(got.running_var, want.running_var, 1e-5, 1e-6, "running_var");
    }
  }
}

TEST(BatchNormAct, Bf16WithinOneBf16StepOfTheFormula) {
  // bf16 activations (a ResNet under bf16 autocast): the formula in double on the same bf16
  // values; y and dx rounded once, so within 2^-8 relative plus a bf16 step of their scale.
  for (const auto& k : kActCases) {
    SCOPED_TRACE("C " + std::to_string(k.channels));
    torch::manual_seed(k.channels + 100);
    const auto x = (torch::randn({4, k.channels, 6, 6}) * 2 + 0.7).to(torch::kBFloat16);
    const auto res = k.residual ? torch::randn({4, k.channels, 6, 6}).to(torch::kBFloat16) : torch::Tensor();
    const auto w = torch::rand({k.channels}) + 0.5, b = torch::randn({k.channels});
    const auto c = torch::randn({4, k.channels, 6, 6}).to(torch::kBFloat16);
    const auto got = run_act(x, res, w, b, c, true, k.relu, true);
    const auto want = run_act(x, res, w, b, c, true, k.relu, false);
    ASSERT_TRUE(fused_node(got.node)) << got.node;
    ASSERT_EQ(got.y.scalar_type(), torch::kBFloat16);
    ASSERT_EQ(got.dx.scalar_type(), torch::kBFloat16);
    test::expect_close_bf16(got.y, want.y, 1.0 / 256, "y");
    test::expect_close_bf16(got.dx, want.dx, 1.0 / 128, "dx");
    if (k.residual) expect_close(got.dres, want.dres, 1.0 / 256, 1e-6, "dres");
    test::expect_close_bf16(got.dw, want.dw, 1e-3, "dweight");
    test::expect_close_bf16(got.db, want.db, 1e-3, "dbias");
    expect_close(got.running_mean, want.running_mean, 1e-5, 1e-6, "running_mean");
  }
}

TEST(BatchNormAct, SameResultsOnOneAndTwoThreads) {
  torch::manual_seed(3);
  const auto x = torch::randn({16, 32, 14, 14}), res = torch::randn({16, 32, 14, 14});
  const auto w = torch::rand({32}) + 0.5, b = torch::randn({32}), c = torch::randn({16, 32, 14, 14});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = run_act(x, res, w, b, c, true, true, true);
  torch::set_num_threads(2);
  const auto two = run_act(x, res, w, b, c, true, true, true);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, two.y));
  EXPECT_TRUE(torch::equal(one.dx, two.dx));
  EXPECT_TRUE(torch::equal(one.dw, two.dw));
  EXPECT_TRUE(torch::equal(one.running_var, two.running_var));
}

TEST(BatchNormAct, ModuleOnChannelsLastMatchesTorchsBatchNormAndTheFallback) {
  // The module's fused path (channels-last input) and its libtorch path (NCHW input) against
  // torch::nn::BatchNorm2d + add + relu: the same numbers, the same running statistics.
  torch::manual_seed(4);
  nn::BatchNorm2d fused(nn::BatchNorm2dOptions(24)), plain(nn::BatchNorm2dOptions(24));
  torch::nn::BatchNorm2d ref(torch::nn::BatchNorm2dOptions(24));
  {
    torch::NoGradGuard ng;
    for (auto* p : {&fused->weight, &plain->weight, &ref->weight}) p->copy_(torch::linspace(0.5, 1.5, 24));
  }
  for (int step = 0; step < 2; ++step) {
    const auto x = torch::randn({4, 24, 5, 5}) * 3 + 1, res = torch::randn({4, 24, 5, 5});
    const auto yf = fused->forward_relu(x.contiguous(kCL), res.contiguous(kCL));
    const auto yp = plain->forward_relu(x, res);
    const auto yr = torch::relu(ref->forward(x) + res);
    EXPECT_TRUE(fused_node(yf.grad_fn()->name())) << yf.grad_fn()->name();
    EXPECT_FALSE(fused_node(yp.grad_fn()->name())) << yp.grad_fn()->name();  // NCHW: libtorch's ops
    expect_close(yf, yr, 1e-5, 1e-5, "fused");
    expect_close(yp, yr, 1e-6, 1e-6, "libtorch path");
  }
  expect_close(fused->running_var, ref->running_var, 1e-5, 1e-6, "running_var");
  EXPECT_EQ(fused->num_batches_tracked.item<int64_t>(), 2);
}

TEST(BatchNormAct, OneValuePerChannelInTrainingIsAnError) {
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(4));
  // As PyTorch's Python API (libtorch's op would store a NaN running variance); eval is fine.
  EXPECT_THROW(bn->forward(torch::randn({1, 4, 1, 1})), UserError);
  bn->eval();
  EXPECT_EQ(bn->forward(torch::randn({1, 4, 1, 1})).sizes(), (std::vector<int64_t>{1, 4, 1, 1}));
}

}  // namespace
}  // namespace ptft
