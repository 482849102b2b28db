// nn::dropout (the counter-based CPU op of nn/dropout_kernel.h): the share dropped is p (within
// 5 standard deviations), kept values are x / (1 - p), the gradient uses the forward's mask,
// the mask follows libtorch's seed and not the thread count, successive calls draw new masks;
// bf16; identity when not training or p = 0; p = 1 and double through libtorch's dropout.
#include <gtest/gtest.h>

#include <cmath>

#include "../common/tensor_close.h"
#include "ptft/nn/dropout.h"

namespace ptft::nn {
namespace {

TEST(Dropout, DropsTheShareAskedAndScalesTheRest) {
  torch::manual_seed(1);
  const int64_t n = 1 << 20;
  const auto x = torch::rand({n}) + 0.5;  // no zeros of its own
  for (double p : {0.1, 0.5, 0.9}) {
    const auto y = nn::dropout(x, p, true);
    const double dropped = y.eq(0).to(torch::kDouble).mean().item<double>();
    EXPECT_NEAR(dropped, p, 5 * std::sqrt(p * (1 - p) / n)) << "p " << p;
    const auto kept = y.ne(0);
    test::expect_close(y.masked_select(kept), (x / (1 - p)).masked_select(kept), 1e-6, 0, "kept values");
  }
}

TEST(Dropout, GradientUsesTheSameMask) {
  torch::manual_seed(2);
  auto x = (torch::rand({3, 1000}) + 0.5).requires_grad_(true);
  const auto y = nn::dropout(x, 0.3, true);
  const auto w = torch::randn({3, 1000});
  (y * w).sum().backward();
  const auto expected = torch::where(y.detach().ne(0), w / 0.7, torch::zeros_like(w));
  test::expect_close(x.grad(), expected, 1e-6, 0, "gradient");
}

TEST(Dropout, FollowsTheSeedNotTheThreads) {
  const auto x = torch::ones({100000});
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(7);
  const auto one = nn::dropout(x, 0.2, true);
  const auto next = nn::dropout(x, 0.2, true);
  at::set_num_threads(2);
  torch::manual_seed(7);
  const auto two = nn::dropout(x, 0.2, true);
  at::set_num_threads(saved);
  EXPECT_TRUE(torch::equal(one, two));
  EXPECT_FALSE(torch::equal(one, next));  // each call draws its own key
}

TEST(Dropout, Bf16KeepsRoundedScaledValues) {
  torch::manual_seed(3);
  const auto x = (torch::randn({50000}) * 3).to(torch::kBFloat16);
  const auto y = nn::dropout(x, 0.25, true);
  ASSERT_EQ(y.scalar_type(), torch::kBFloat16);
  const auto kept = y.ne(0).logical_and(x.ne(0));
  EXPECT_TRUE(torch::equal(y.masked_select(kept), (x.to(torch::kFloat) / 0.75).to(torch::kBFloat16).masked_select(kept)));
  EXPECT_NEAR(y.eq(0).to(torch::kDouble).mean().item<double>(), 0.25, 0.01);
}

TEST(Dropout, EdgesAndOtherTypes) {
  const auto x = torch::randn({64});
  EXPECT_TRUE(nn::dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(nn::dropout(x, 0.0, true).is_same(x));
  EXPECT_TRUE(nn::dropout(x, 1.0, true).eq(0).all().item<bool>());
  const auto d = torch::randn({1000}, torch::kDouble);
  const auto yd = nn::dropout(d, 0.5, true);
  EXPECT_EQ(yd.scalar_type(), torch::kDouble);
  EXPECT_NEAR(yd.eq(0).to(torch::kDouble).mean().item<double>(), 0.5, 0.1);
}

}  // namespace
}  // namespace ptft::nn
