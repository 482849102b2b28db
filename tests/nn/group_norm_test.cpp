// Tests for ptft/nn/group_norm.h: the fused channels-last op (nn::group_norm_act, with ReLU or
// not) against the formula in double: fp32 within 1e-5 relative (gradients 1e-4: dx cancels),
// bf16 within a bf16 step; the same bits on one and two threads; NCHW input takes libtorch's
// group_norm (the same numbers as torch::nn::GroupNorm).
#include "ptft/nn/group_norm.h"

#include <gtest/gtest.h>

#include "../common/tensor_close.h"

namespace ptft {
namespace {

using test::expect_close;
constexpr auto kCL = torch::MemoryFormat::ChannelsLast;

struct Result {
  torch::Tensor y, dx, dw, db;
  std::string node;  // the autograd node that made y
};

// y = act(group_norm(x)) and the gradients of L = sum(y * c): nn::group_norm_act on channels-last
// tensors of x's dtype (ours), or the formula in libtorch's double ops (the reference).
Result run(const torch::Tensor& x0, int64_t groups, const torch::Tensor& w0, const torch::Tensor& b0,
           const torch::Tensor& c, bool relu, bool ours) {
  const auto type = ours ? x0.scalar_type() : torch::kDouble;
  auto x = x0.detach().to(type).clone(kCL).requires_grad_(true);
  auto w = w0.detach().to(ours ? torch::kFloat : torch::kDouble).clone().requires_grad_(true);
  auto b = b0.detach().to(w.scalar_type()).clone().requires_grad_(true);
  const int64_t B = x0.size(0), C = x0.size(1);
  torch::Tensor y;
  if (ours) {
    y = nn::group_norm_act(x, groups, w, b, 1e-5, relu);
  } else {
    const auto xg = x.reshape({B, groups, -1});
    const auto mean = xg.mean(2, true), var = (xg - mean).pow(2).mean(2, true);
    y = ((xg - mean) / (var + 1e-5).sqrt()).reshape(x.sizes()) * w.view({1, C, 1, 1}) + b.view({1, C, 1, 1});
    if (relu) y = torch::relu(y);
  }
  const std::string node = y.grad_fn()->name();
  (y * c.to(y.scalar_type())).sum().backward();
  return {y.detach(), x.grad(), w.grad(), b.grad(), node};
}

bool fused_node(const std::string& node) { return node.find("GroupNormActOp") != std::string::npos; }

struct Case {
  int64_t channels, groups;
  bool relu;
};

// Channel counts that fold 64/C rows into one lane row (8, 16, 64) or not (12, 48, 96); one
// channel per group (48 / 48) and one group for all (16 / 1).
const Case kCases[] = {{8, 2, true}, {12, 3, false}, {16, 1, true}, {16, 4, true},
                       {48, 48, false}, {64, 32, true}, {96, 16, true}};

TEST(GroupNormAct, Fp32MatchesTheDoubleFormula) {
  for (const auto& k : kCases) {
    SCOPED_TRACE("C " + std::to_string(k.channels) + " groups " + std::to_string(k.groups) + (k.relu ? " relu" : ""));
    torch::manual_seed(k.channels + k.groups);
    const auto x = torch::randn({3, k.channels, 5, 8}) * 2 + 3.0;  // an offset: the statistics' shift matters
    const auto w = torch::rand({k.channels}) + 0.5, b = torch::randn({k.channels});
    const auto c = torch::randn({3, k.channels, 5, 8});
    const auto got = run(x, k.groups, w, b, c, k.relu, true);
    const auto want = run(x, k.groups, w, b, c, k.relu, false);
    ASSERT_TRUE(fused_node(got.node)) << got.node;  // the kernels ran, not libtorch's ops
    ASSERT_TRUE(got.y.is_contiguous(kCL));
    expect_close(got.y, want.y, 1e-5, 1e-5, "y");
    expect_close(got.dx, want.dx, 1e-4, 1e-5, "dx");
    expect_close(got.dw, want.dw, 1e-4, 1e-4, "dweight");
    expect_close(got.db, want.db, 1e-5, 1e-4, "dbias");
  }
}

TEST(GroupNormAct, Bf16WithinOneBf16StepOfTheFormula) {
  // bf16 activations (the detector's towers under bf16 autocast): the formula in double on the
  // same bf16 values; y and dx rounded once.
  for (const auto& k : kCases) {
    SCOPED_TRACE("C " + std::to_string(k.channels) + " groups " + std::to_string(k.groups));
    torch::manual_seed(k.channels + 100);
    const auto x = (torch::randn({4, k.channels, 6, 6}) * 2 + 0.7).to(torch::kBFloat16);
    const auto w = torch::rand({k.channels}) + 0.5, b = torch::randn({k.channels});
    const auto c = torch::randn({4, k.channels, 6, 6}).to(torch::kBFloat16);
    const auto got = run(x, k.groups, w, b, c, k.relu, true);
    const auto want = run(x, k.groups, w, b, c, k.relu, false);
    ASSERT_TRUE(fused_node(got.node)) << got.node;
    ASSERT_EQ(got.y.scalar_type(), torch::kBFloat16);
    ASSERT_EQ(got.dx.scalar_type(), torch::kBFloat16);
    test::expect_close_bf16(got.y, want.y, 1.0 / 256, "y");
    test::expect_close_bf16(got.dx, want.dx, 1.0 / 128, "dx");
    test::expect_close_bf16(got.dw, want.dw, 1e-3, "dweight");
    test::expect_close_bf16(got.db, want.db, 1e-3, "dbias");
  }
}

TEST(GroupNormAct, SameResultsOnOneAndTwoThreads) {
  torch::manual_seed(3);
  const auto x = torch::randn({16, 32, 12, 12}), c = torch::randn({16, 32, 12, 12});
  const auto w = torch::rand({32}) + 0.5, b = torch::randn({32});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = run(x, 8, w, b, c, true, true);
  torch::set_num_threads(2);
  const auto two = run(x, 8, w, b, c, true, true);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, two.y));
  EXPECT_TRUE(torch::equal(one.dx, two.dx));
  EXPECT_TRUE(torch::equal(one.dw, two.dw));
  EXPECT_TRUE(torch::equal(one.db, two.db));
}

TEST(GroupNormAct, NchwInputTakesLibtorchsGroupNormWithTheSameNumbers) {
  torch::manual_seed(4);
  torch::nn::GroupNorm ref(torch::nn::GroupNormOptions(4, 16));
  {
    torch::NoGradGuard ng;
    ref->weight.copy_(torch::rand({16}) + 0.5);
    ref->bias.copy_(torch::randn({16}));
  }
  const auto x = torch::randn({2, 16, 7, 7}) + 1.0;
  const auto want = torch::relu(ref->forward(x));
  const auto nchw = nn::group_norm_act(x, 4, ref->weight, ref->bias, 1e-5, true);
  EXPECT_FALSE(fused_node(nchw.grad_fn()->name())) << nchw.grad_fn()->name();
  EXPECT_TRUE(torch::allclose(nchw, want, 1e-6, 1e-6));
  const auto cl = nn::group_norm_act(x.contiguous(kCL), 4, ref->weight, ref->bias, 1e-5, true);
  EXPECT_TRUE(fused_node(cl.grad_fn()->name())) << cl.grad_fn()->name();
  EXPECT_TRUE(torch::allclose(cl, want, 1e-5, 1e-5));
  // No affine part (GroupNormOptions::affine(false)): libtorch's path.
  const auto plain = nn::group_norm_act(x.contiguous(kCL), 4, torch::Tensor(), torch::Tensor(), 1e-5, false);
  EXPECT_TRUE(torch::allclose(plain, torch::group_norm(x, 4), 1e-5, 1e-5));
}

}  // namespace
}  // namespace ptft
