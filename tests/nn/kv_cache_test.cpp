// nn::KvCache: appended keys/values read back as the concatenation of everything appended, across
// the buffer's growth (first capacity 64 positions, then doubling), for prompts and single steps.
#include <gtest/gtest.h>

#include "ptft/nn/kv_cache.h"

namespace ptft {
namespace {

TEST(KvCache, ReadsBackEverythingAppendedAcrossGrowth) {
  torch::manual_seed(1);
  nn::KvCache cache;
  EXPECT_EQ(cache.length(), 0);
  EXPECT_FALSE(cache.keys().defined());
  std::vector<torch::Tensor> ks, vs;
  // A prompt of 50, then 1 by 1 past 64 and 128 positions, then a chunk of 70 (past 256).
  std::vector<int64_t> sizes = {50};
  for (int i = 0; i < 100; ++i) sizes.push_back(1);
  sizes.push_back(70);
  for (int64_t T : sizes) {
    auto k = torch::randn({2, 3, T, 4}), v = torch::randn({2, 3, T, 4});  // (B,nkv,T,hs)
    ks.push_back(k);
    vs.push_back(v);
    auto [all_k, all_v] = cache.append(k, v);
    ASSERT_TRUE(torch::equal(all_k, torch::cat(ks, 2))) << "after " << cache.length() << " positions";
    ASSERT_TRUE(torch::equal(all_v, torch::cat(vs, 2)));
  }
  EXPECT_EQ(cache.length(), 220);
  EXPECT_EQ(cache.keys().sizes(), (std::vector<int64_t>{2, 3, 220, 4}));
  EXPECT_TRUE(torch::equal(cache.values(), torch::cat(vs, 2)));
}

TEST(KvCache, KeepsTheDtype) {
  nn::KvCache cache;
  auto k = torch::ones({1, 2, 3, 4}, torch::kDouble);
  auto [all_k, all_v] = cache.append(k, k * 2);
  EXPECT_EQ(all_k.scalar_type(), torch::kDouble);
  EXPECT_EQ(all_v.sum().item<double>(), 48.0);
}

}  // namespace
}  // namespace ptft
