// Tests for ptft/nn/batch_norm.h: torch::nn::BatchNorm2d's numbers while trainable (outputs,
// running statistics, num_batches_tracked, gradients), and eval behaviour in training mode while
// frozen, switched at forward time by requires_grad.
#include "ptft/nn/batch_norm.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ptft
