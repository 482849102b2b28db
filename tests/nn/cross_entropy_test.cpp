// nn::cross_entropy_sum against libtorch's cross_entropy (sum, ignore_index) on fp32 logits, and
// its autograd gradient: fp32 logits within 1e-6 relative of the double-precision loss, the
// gradient (entries up to 0.37) as close to the double one as libtorch's fp32 gradient (x1.5); bf16 logits against the reference on the same values in
// fp32, the bf16 gradient within one bf16 step; ignored rows, extreme logits, bad targets; other
// dtypes run libtorch's op. overwrite_logits: the same gradient bit for bit, written over the
// logits' buffer; an op that saved those logits fails its backward instead of reading the gradient.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "ptft/nn/cross_entropy.h"

namespace ptft::nn {
namespace {

constexpr int64_t kIgnore = -100;

struct Result {
  double loss;
  torch::Tensor grad;
};

Result run(const torch::Tensor& logits0, const torch::Tensor& targets, bool ours, double scale = 0.37) {
  auto logits = logits0.detach().clone().requires_grad_(true);
  torch::Tensor loss =
      ours ? cross_entropy_sum(logits, targets, kIgnore)
           : torch::nn::functional::cross_entropy(
                 logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat), targets,
                 torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum).ignore_index(kIgnore));
  (loss * scale).backward();
  return {loss.item<double>(), logits.grad()};
}

torch::Tensor targets_with_ignored(int64_t n, int64_t v) {
  auto t = torch::randint(0, v, {n}, torch::kLong);
  t.index_put_({torch::arange(0, n, 5)}, kIgnore);  // every fifth row ignored
  return t;
}

TEST(CrossEntropySum, Fp32MatchesLibtorchLossAndGradient) {
  torch::manual_seed(1);
  for (int64_t v : {7, 16, 1000, 50257}) {
    const int64_t n = v > 10000 ? 9 : 37;
    const auto logits = torch::randn({n, v}) * 4;
    const auto targets = targets_with_ignored(n, v);
    const Result got = run(logits, targets, true), want = run(logits, targets, false);
    const Result exact = run(logits.to(torch::kDouble), targets, false);
    EXPECT_NEAR(got.loss, exact.loss, 1e-6 * std::abs(exact.loss)) << "V=" << v;
    EXPECT_NEAR(want.loss, exact.loss, 1e-6 * std::abs(exact.loss)) << "V=" << v;
    EXPECT_EQ(got.grad.scalar_type(), torch::kFloat);
    // Entries up to 0.37 (the scale); exp(x - lse) in fp32 carries lse's rounding (~1e-6 at
    // lse ~ 17): no worse than libtorch's fp32 gradient, or a few fp32 steps.
    const double ours = (got.grad.to(torch::kDouble) - exact.grad).abs().max().item<double>();
    const double theirs = (want.grad.to(torch::kDouble) - exact.grad).abs().max().item<double>();
    EXPECT_LE(ours, std::max(1.5 * theirs, 4e-7)) << "V=" << v << ", libtorch's error " << theirs;
  }
}

TEST(CrossEntropySum, Bf16LogitsGiveAnFp32LossAndABf16Gradient) {
  torch::manual_seed(2);
  const int64_t n = 33, v = 3001;
  const auto logits = (torch::randn({n, v}) * 4).to(torch::kBFloat16);
  const auto targets = targets_with_ignored(n, v);
  const Result got = run(logits, targets, true);
  const Result want = run(logits.to(torch::kFloat), targets, false);  // the same values, in fp32
  EXPECT_NEAR(got.loss, want.loss, 1e-6 * std::abs(want.loss));
  ASSERT_EQ(got.grad.scalar_type(), torch::kBFloat16);
  const auto g = got.grad.to(torch::kDouble), w = want.grad.to(torch::kDouble);
  EXPECT_TRUE(((g - w).abs() <= w.abs() / 128 + 1e-30).all().item<bool>())  // one bf16 step
      << (g - w).abs().max().item<double>();
}

TEST(CrossEntropySum, IgnoredRowsAddNothingAndGetZeroGradient) {
  const auto logits = torch::randn({4, 10});
  const auto all_ignored = torch::full({4}, kIgnore, torch::kLong);
  const Result r = run(logits, all_ignored, true);
  EXPECT_EQ(r.loss, 0.0);
  EXPECT_EQ(r.grad.abs().max().item<float>(), 0.0f);
}

TEST(CrossEntropySum, ExtremeLogitsAsLibtorch) {
  const float inf = std::numeric_limits<float>::infinity();
  auto logits = torch::zeros({3, 6});
  logits[0][2] = 1e4;  // a near one-hot row
  logits[1][4] = -inf;  // a masked-out class
  logits[2] = torch::tensor({-3e4f, -3e4f, -3e4f, -3e4f, -3e4f, 0.f});
  const auto targets = torch::tensor({2, 1, 0}, torch::kLong);
  const Result got = run(logits, targets, true), want = run(logits, targets, false);
  EXPECT_NEAR(got.loss, want.loss, 1e-6 * std::abs(want.loss));
  EXPECT_LT((got.grad - want.grad).abs().max().item<double>(), 1e-7);
  // +inf or NaN among the logits: a NaN loss (the trainer then stops with its divergence message).
  logits[0][0] = inf;
  EXPECT_TRUE(std::isnan(cross_entropy_sum(logits, targets, kIgnore).item<float>()));
}

TEST(CrossEntropySum, TargetOutOfRangeIsAnError) {
  EXPECT_THROW(cross_entropy_sum(torch::randn({2, 5}), torch::tensor({1, 5}, torch::kLong), kIgnore), c10::Error);
  EXPECT_THROW(cross_entropy_sum(torch::randn({2, 5}), torch::tensor({-1, 0}, torch::kLong), kIgnore), c10::Error);
}

TEST(CrossEntropySum, DoubleRunsLibtorchsOp) {
  torch::manual_seed(3);
  const auto logits = torch::randn({5, 11}, torch::kDouble);
  const auto targets = torch::tensor({int64_t{1}, int64_t{2}, kIgnore, int64_t{4}, int64_t{10}}, torch::kLong);
  const Result got = run(logits, targets, true), want = run(logits, targets, false);
  EXPECT_EQ(got.loss, want.loss);
  EXPECT_TRUE(torch::equal(got.grad, want.grad));
}

// The gradient of a leaf through logits = leaf * 1 (a fresh buffer, as a model's head gives), and
// those logits after the backward.
std::pair<torch::Tensor, torch::Tensor> grad_through_copy(const torch::Tensor& leaf0, const torch::Tensor& targets,
                                                          bool overwrite) {
  auto leaf = leaf0.detach().clone().requires_grad_(true);
  const auto logits = leaf * 1;
  const int64_t version = logits._version();
  (cross_entropy_sum(logits, targets, kIgnore, overwrite) * 0.37).backward();
  EXPECT_EQ(logits._version() > version, overwrite);  // autograd is told the buffer changed
  return {leaf.grad(), logits.detach()};
}

TEST(CrossEntropySum, OverwritingTheLogitsGivesTheSameGradientInTheirBuffer) {
  torch::manual_seed(4);
  for (auto type : {torch::kFloat, torch::kBFloat16}) {
    const auto leaf = (torch::randn({37, 1000}) * 3).to(type);
    const auto targets = targets_with_ignored(37, 1000);
    const auto [want, kept] = grad_through_copy(leaf, targets, false);
    const auto [got, overwritten] = grad_through_copy(leaf, targets, true);
    EXPECT_TRUE(torch::equal(got, want)) << type;
    EXPECT_TRUE(torch::equal(kept, leaf)) << type;         // without: the logits as they were
    EXPECT_TRUE(torch::equal(overwritten, want)) << type;  // with: their buffer holds the gradient
  }
}

TEST(CrossEntropySum, AnOpThatSavedOverwrittenLogitsFailsItsBackward) {
  torch::manual_seed(5);
  const auto leaf = torch::randn({6, 20}).requires_grad_(true);
  const auto logits = leaf.exp();  // exp saves its result for its backward
  const auto loss = cross_entropy_sum(logits, torch::randint(0, 20, {6}, torch::kLong), kIgnore, true);
  EXPECT_THROW(loss.backward(), c10::Error);  // "modified by an inplace operation", not a wrong gradient
}

}  // namespace
}  // namespace ptft::nn
