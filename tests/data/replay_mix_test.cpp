// ReplayMix: each micro-batch takes round(fraction * B) rows from the replay source at the same
// address, deterministic; token batches of different widths are padded (targets with -100).
#include "ptft/data/replay_mix.h"

#include <gtest/gtest.h>

namespace ptft {
namespace {

std::unique_ptr<DataSource> spirals(uint64_t seed) {
  DataContext ctx;
  ctx.seed = seed;
  return open_data_source("synthetic:spirals?n=256", "train", ctx, "data.train");
}

TEST(ReplayMix, TakesTheReplayShareOfEachBatchAtTheSameAddress) {
  ReplayMix mix(spirals(1), spirals(2), 0.25);
  EXPECT_EQ(mix.replay_rows(8), 2);
  EXPECT_EQ(mix.replay_rows(2), 1);   // rounds half up
  EXPECT_EQ(mix.replay_rows(1), 0);   // never the whole batch
  const BatchAddress at{3, 1, 8, 2};
  Batch b = mix.train_batch(at);
  EXPECT_EQ(b.data.at("x").size(0), 8);
  EXPECT_EQ(b.weight, 8);
  // The first 6 rows are the domain's batch of 6 at this address, the last 2 the replay's.
  auto domain = spirals(1)->train_batch({3, 1, 6, 2});
  auto replay = spirals(2)->train_batch({3, 1, 2, 2});
  EXPECT_TRUE(torch::equal(b.data.at("x").slice(0, 0, 6), domain.data.at("x")));
  EXPECT_TRUE(torch::equal(b.data.at("x").slice(0, 6), replay.data.at("x")));
  EXPECT_TRUE(torch::equal(mix.train_batch(at).data.at("x"), b.data.at("x")));  // deterministic
  // Evaluation reads the domain only.
  EXPECT_TRUE(torch::equal(mix.eval_batch(0, 4).data.at("x"), spirals(1)->eval_batch(0, 4).data.at("x")));
}

TEST(ReplayMix, ConcatPadsTokenBatchesOfDifferentWidths) {
  Batch a, b;
  a.data["input_ids"] = torch::ones({2, 3}, torch::kLong);
  a.data["targets"] = torch::ones({2, 3}, torch::kLong);
  a.weight = 6;
  b.data["input_ids"] = torch::full({1, 5}, 7, torch::kLong);
  b.data["targets"] = torch::full({1, 5}, 7, torch::kLong);
  b.weight = 5;
  Batch c = concat_batches(a, b);
  EXPECT_EQ(c.data.at("input_ids").sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(c.data.at("targets")[0][4].item<int64_t>(), -100);
  EXPECT_EQ(c.data.at("input_ids")[0][4].item<int64_t>(), 0);
  EXPECT_EQ(c.data.at("targets")[2][4].item<int64_t>(), 7);
  EXPECT_EQ(c.weight, 11);
}

}  // namespace
}  // namespace ptft
