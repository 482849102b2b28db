// nn::StackedBf16: q|k|v-like projections held as one bf16 matrix give, for one row, exactly what
// each projection gives on its own bf16 copy (the same rows through the same kernel), with and
// without biases; the parts' copies become views of the stack (no second copy); a part with a
// LoRA adapter or without a bf16 copy leaves them unstacked; several rows are not read; a second
// hold_bf16_copy() changes nothing.
#include <gtest/gtest.h>

#include "ptft/nn/bf16_gemv.h"
#include "ptft/nn/stacked_bf16.h"

namespace ptft {
namespace {

TEST(StackedBf16, OneRowGivesEachPartsOwnProduct) {
  torch::manual_seed(2);
  torch::NoGradGuard ng;
  for (bool with_bias : {false, true}) {
    nn::Linear q(nn::LinearOptions(40, 40).bias(with_bias)), k(nn::LinearOptions(40, 8).bias(false)),
        v(nn::LinearOptions(40, 8).bias(with_bias));
    for (auto* p : {q.get(), k.get(), v.get()}) p->hold_bf16_copy();
    const auto x = torch::randn({1, 1, 40});
    std::vector<torch::Tensor> want;
    for (auto* p : {q.get(), k.get(), v.get()}) want.push_back(nn::bf16_gemv(p->weight_bf16, x, p->bias));
    nn::StackedBf16 s;
    s.stack({q.get(), k.get(), v.get()});
    ASSERT_TRUE(s.reads(x));
    const auto got = s.forward(x);
    ASSERT_EQ(got.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(got[i].sizes(), want[i].sizes());
      EXPECT_TRUE(got[i].equal(want[i])) << "part " << i << (with_bias ? " with" : " without") << " bias";
    }
    EXPECT_EQ(k->weight_bf16.data_ptr(), static_cast<char*>(q->weight_bf16.data_ptr()) + 40 * 40 * 2);  // views of one stack
    EXPECT_TRUE(k->weight_bf16.is_contiguous());
    EXPECT_FALSE(s.reads(torch::randn({1, 2, 40})));  // a prompt: each part's own GEMM
    const void* before = k->weight_bf16.data_ptr();
    k->hold_bf16_copy();  // again: nothing changes (the float32 weight is gone)
    EXPECT_EQ(k->weight_bf16.data_ptr(), before);
    EXPECT_EQ(k->weight_bf16.size(0), 8);
  }
}

TEST(StackedBf16, LeavesPartsAloneWithAnAdapterOrWithoutBf16Copies) {
  torch::NoGradGuard ng;
  nn::Linear a(nn::LinearOptions(16, 16)), b(nn::LinearOptions(16, 16));
  nn::StackedBf16 none;
  none.stack({a.get(), b.get()});  // no bf16 copies yet
  EXPECT_FALSE(none.reads(torch::randn({16})));
  b->add_lora(2, 4, 0.0);
  a->hold_bf16_copy();
  b->hold_bf16_copy();
  nn::StackedBf16 lora;
  lora.stack({a.get(), b.get()});
  EXPECT_FALSE(lora.reads(torch::randn({16})));  // the stack would skip b's adapter
}

}  // namespace
}  // namespace ptft
