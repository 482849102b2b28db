// Tests for ptft/data/synthetic.h (through open_data_source): determinism, split separation,
// and the BatchAddress contract — splitting one effective batch into micro-batches or across
// data-parallel ranks reads the same examples — for spirals and for random token windows.
#include "ptft/data/synthetic.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ptft/core/error.h"

namespace ptft {
namespace {

std::unique_ptr<DataSource> spirals(const std::string& split, uint64_t seed = 1337, int rank = 0, int world = 1,
                                    const std::string& params = "n=512") {
  DataContext ctx;
  ctx.seed = seed;
  ctx.rank = rank;
  ctx.world_size = world;
  return open_data_source("synthetic:spirals?" + params, split, ctx, "data.train");
}

// Examples as one (N, 3) tensor of (x0, x1, y), rows sorted: a multiset for comparisons.
torch::Tensor as_set(const std::vector<Batch>& batches) {
  std::vector<torch::Tensor> rows;
  for (const auto& b : batches)
    rows.push_back(torch::cat({b.data.at("x"), b.data.at("y").unsqueeze(1).to(torch::kFloat)}, 1));
  auto all = torch::cat(rows, 0);                     // (N, 3)
  auto order = std::get<1>(all.select(1, 0).sort());  // by x0; ties are identical rows
  return all.index_select(0, order);
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.weight == b.weight && torch::equal(a.data.at("x"), b.data.at("x")) &&
         torch::equal(a.data.at("y"), b.data.at("y"));
}

TEST(Spirals, BatchShapesAndWeight) {
  auto src = spirals("train");
  EXPECT_EQ(src->size(), 512);
  Batch b = src->train_batch({3, 1, 8, 4});
  EXPECT_EQ(b.data.at("x").sizes(), (std::vector<int64_t>{8, 2}));
  EXPECT_EQ(b.data.at("y").sizes(), (std::vector<int64_t>{8}));
  EXPECT_EQ(b.data.at("y").scalar_type(), torch::kLong);
  EXPECT_EQ(b.weight, 8);
  EXPECT_GE(b.data.at("y").min().item<int64_t>(), 0);
  EXPECT_LT(b.data.at("y").max().item<int64_t>(), 3);
  EXPECT_NE(src->describe().find("512 points"), std::string::npos) << src->describe();
}

TEST(Spirals, SameSeedSameBatches) {
  auto a = spirals("train"), b = spirals("train");
  for (int64_t step : {0, 1, 17, 100})  // 100 * 32 > 512: a later epoch, another permutation
    for (int64_t micro = 0; micro < 4; ++micro)
      EXPECT_TRUE(same_batch(a->train_batch({step, micro, 8, 4}), b->train_batch({step, micro, 8, 4})))
          << step << "/" << micro;
  EXPECT_TRUE(same_batch(a->eval_batch(2, 100), b->eval_batch(2, 100)));
  // Asking again (out of order) gives the same batch: a pure function of the address.
  EXPECT_TRUE(same_batch(a->train_batch({1, 2, 8, 4}), a->train_batch({1, 2, 8, 4})));
}

TEST(Spirals, OtherSeedOtherData) {
  auto a = spirals("train", 1), b = spirals("train", 2);
  EXPECT_FALSE(torch::equal(a->eval_batch(0, 512).data.at("x"), b->eval_batch(0, 512).data.at("x")));
  EXPECT_FALSE(same_batch(a->train_batch({0, 0, 32, 1}), b->train_batch({0, 0, 32, 1})));
}

TEST(Spirals, TrainAndValSplitsDiffer) {
  auto train = spirals("train"), val = spirals("val");
  auto xt = train->eval_batch(0, 512).data.at("x"), xv = val->eval_batch(0, 512).data.at("x");
  EXPECT_FALSE(torch::equal(xt, xv));
  // Not a single point in common.
  auto d = torch::cdist(xt, xv);  // (512, 512)
  EXPECT_GT(d.min().item<double>(), 0.0);
}

TEST(Spirals, EvalBatchesCoverTheSplitOnce) {
  auto src = spirals("val", 1337, 0, 1, "n=100");
  ASSERT_EQ(src->eval_batches(32), 4);
  int64_t total = 0;
  std::vector<Batch> all;
  for (int64_t i = 0; i < 4; ++i) {
    all.push_back(src->eval_batch(i, 32));
    total += all.back().weight;
  }
  EXPECT_EQ(all.back().weight, 100 - 3 * 32);
  EXPECT_EQ(total, 100);
  EXPECT_TRUE(torch::equal(as_set(all), as_set({src->eval_batch(0, 100)})));
}

TEST(Spirals, EpochIsAPermutationOfTheSplit) {
  // 16 steps of 32 examples = 512 = one epoch: every example exactly once.
  auto src = spirals("train");
  std::vector<Batch> epoch;
  for (int64_t step = 0; step < 16; ++step) epoch.push_back(src->train_batch({step, 0, 32, 1}));
  EXPECT_TRUE(torch::equal(as_set(epoch), as_set({src->eval_batch(0, 512)})));
}

TEST(BatchAddress, GradAccumReadsTheSameExamplesAsOneBigBatch) {
  auto src = spirals("train");
  for (int64_t step : {0, 5, 23}) {
    SCOPED_TRACE(step);
    std::vector<Batch> micro;
    for (int64_t m = 0; m < 4; ++m) micro.push_back(src->train_batch({step, m, 8, 4}));
    Batch big = src->train_batch({step, 0, 32, 1});
    EXPECT_TRUE(torch::equal(as_set(micro), as_set({big})));
  }
  // ... and different steps read different examples.
  EXPECT_FALSE(torch::equal(as_set({src->train_batch({0, 0, 32, 1})}), as_set({src->train_batch({1, 0, 32, 1})})));
}

TEST(BatchAddress, RanksTogetherReadWhatOneProcessReadsWithTwiceTheMicroBatch) {
  auto single = spirals("train", 1337, 0, 1);
  auto r0 = spirals("train", 1337, 0, 2), r1 = spirals("train", 1337, 1, 2);
  for (int64_t step : {0, 3, 20}) {
    for (int64_t m = 0; m < 2; ++m) {
      SCOPED_TRACE(std::to_string(step) + "/" + std::to_string(m));
      Batch a = r0->train_batch({step, m, 8, 2}), b = r1->train_batch({step, m, 8, 2});
      EXPECT_TRUE(torch::equal(as_set({a, b}), as_set({single->train_batch({step, m, 16, 2})})));
      // The ranks read disjoint halves.
      EXPECT_GT(torch::cdist(a.data.at("x"), b.data.at("x")).min().item<double>(), 0.0);
    }
  }
}

TEST(Spirals, ParameterErrorsNameTheKey) {
  auto msg_of = [](const std::string& spec) -> std::string {
    try {
      open_data_source(spec, "train", DataContext{}, "data.train");
    } catch (const UserError& e) {
      return e.message() + "\n  hint: " + e.hint();
    }
    ADD_FAILURE() << "expected UserError for " << spec;
    return "";
  };
  std::string m = msg_of("synthetic:spirals?n=64&clases=3");
  EXPECT_NE(m.find("data.train"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown parameter 'clases'"), std::string::npos) << m;
  EXPECT_NE(m.find("classes, n and noise"), std::string::npos) << m;
  m = msg_of("synthetic:spirals?n=lots");
  EXPECT_NE(m.find("parameter 'n' must be a number, got 'lots'"), std::string::npos) << m;
  m = msg_of("synthetic:spirals?n=12x");
  EXPECT_NE(m.find("parameter 'n' must be a number"), std::string::npos) << m;
  m = msg_of("synthetic:spirals?classes=1");
  EXPECT_NE(m.find("classes >= 2"), std::string::npos) << m;
  m = msg_of("synthetic:circles");
  EXPECT_NE(m.find("unknown synthetic data set 'circles'"), std::string::npos) << m;
  m = msg_of("");
  EXPECT_NE(m.find("'data.train' is not set"), std::string::npos) << m;
  m = msg_of("/nonexistent/ptft/data.bin");
  EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
}

TEST(Spirals, ClassesAndNoiseParameters) {
  auto src = spirals("train", 1, 0, 1, "classes=5&n=300&noise=0");
  EXPECT_EQ(src->size(), 300);
  auto y = src->eval_batch(0, 300).data.at("y");
  EXPECT_EQ(y.max().item<int64_t>(), 4);
  // noise=0: every point lies on its spiral, radius < 1.
  auto x = src->eval_batch(0, 300).data.at("x");
  EXPECT_LT(x.norm(2, 1).max().item<double>(), 1.0);
}

std::unique_ptr<DataSource> tokens(const std::string& split, const std::string& params = "vocab=50",
                                   uint64_t seed = 1337, int rank = 0, int world = 1, int64_t model_vocab = 64) {
  DataContext ctx;
  ctx.seed = seed;
  ctx.rank = rank;
  ctx.world_size = world;
  ctx.block_size = 12;
  ctx.vocab_size = model_vocab;
  return open_data_source("synthetic:tokens" + (params.empty() ? "" : "?" + params), split, ctx, "data.train");
}

bool same_tokens(const Batch& a, const Batch& b) {
  return a.weight == b.weight && torch::equal(a.data.at("input_ids"), b.data.at("input_ids")) &&
         torch::equal(a.data.at("targets"), b.data.at("targets"));
}

TEST(SyntheticTokens, WindowsLikeTokenWindows) {
  auto src = tokens("train");
  Batch b = src->train_batch({2, 1, 5, 3});
  const auto& x = b.data.at("input_ids");
  const auto& y = b.data.at("targets");
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{5, 12}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{5, 12}));
  EXPECT_EQ(x.scalar_type(), torch::kLong);
  EXPECT_EQ(b.weight, 5 * 12);
  // Targets are the inputs shifted left by one token.
  EXPECT_TRUE(torch::equal(x.slice(1, 1), y.slice(1, 0, 11)));
  EXPECT_GE(x.min().item<int64_t>(), 0);
  EXPECT_LT(torch::max(x.max(), y.max()).item<int64_t>(), 50);
  EXPECT_EQ(src->size(), 4096);
  EXPECT_NE(src->describe().find("50 ids"), std::string::npos) << src->describe();
}

TEST(SyntheticTokens, UniformOverTheVocabulary) {
  auto src = tokens("train", "vocab=8");
  auto ids = src->train_batch({0, 0, 400, 1}).data.at("input_ids");  // 4800 tokens, 600 expected per id
  auto counts = torch::bincount(ids.reshape({-1}), {}, 8);
  EXPECT_EQ(counts.size(0), 8);
  EXPECT_GT(counts.min().item<int64_t>(), 500) << counts;
  EXPECT_LT(counts.max().item<int64_t>(), 700) << counts;
}

TEST(SyntheticTokens, AddressedDeterministically) {
  auto a = tokens("train"), b = tokens("train");
  for (int64_t step : {0, 3, 1000000})
    for (int64_t micro = 0; micro < 2; ++micro)
      EXPECT_TRUE(same_tokens(a->train_batch({step, micro, 4, 2}), b->train_batch({step, micro, 4, 2})));
  EXPECT_TRUE(same_tokens(a->train_batch({1, 0, 4, 1}), a->train_batch({1, 0, 4, 1})));  // out of order
  EXPECT_FALSE(same_tokens(a->train_batch({0, 0, 4, 1}), a->train_batch({1, 0, 4, 1})));
  // Another seed, another split: other tokens.
  EXPECT_FALSE(same_tokens(a->train_batch({0, 0, 4, 1}), tokens("train", "vocab=50", 7)->train_batch({0, 0, 4, 1})));
  EXPECT_FALSE(same_tokens(a->eval_batch(0, 4), tokens("val")->eval_batch(0, 4)));
}

TEST(SyntheticTokens, MicroBatchesAndRanksReadTheEffectiveBatch) {
  auto single = tokens("train");
  auto r0 = tokens("train", "vocab=50", 1337, 0, 2), r1 = tokens("train", "vocab=50", 1337, 1, 2);
  for (int64_t step : {0, 7}) {
    SCOPED_TRACE(step);
    auto big = single->train_batch({step, 0, 8, 1}).data.at("input_ids");  // (8,T)
    std::vector<torch::Tensor> accum, ranks;
    for (int64_t m = 0; m < 4; ++m) accum.push_back(single->train_batch({step, m, 2, 4}).data.at("input_ids"));
    for (int64_t m = 0; m < 2; ++m) {
      ranks.push_back(r0->train_batch({step, m, 2, 2}).data.at("input_ids"));
      ranks.push_back(r1->train_batch({step, m, 2, 2}).data.at("input_ids"));
    }
    EXPECT_TRUE(torch::equal(torch::cat(accum), big));
    EXPECT_TRUE(torch::equal(torch::cat(ranks), big));
  }
}

TEST(SyntheticTokens, EvalCoversNWindowsAndVocabDefaultsToTheModels) {
  auto src = tokens("val", "n=10", 1337, 0, 1, /*model_vocab=*/3);
  EXPECT_EQ(src->size(), 10);
  ASSERT_EQ(src->eval_batches(4), 3);
  EXPECT_EQ(src->eval_batch(2, 4).weight, 2 * 12);
  auto all = src->eval_batch(0, 10).data.at("input_ids");
  EXPECT_TRUE(torch::equal(torch::cat({src->eval_batch(0, 4).data.at("input_ids"), src->eval_batch(1, 4).data.at("input_ids"),
                                       src->eval_batch(2, 4).data.at("input_ids")}),
                           all));
  EXPECT_EQ(all.max().item<int64_t>(), 2);  // the model's vocab of 3: ids 0..2
  EXPECT_EQ(tokens("val", "")->size(), 256);
}

TEST(SyntheticTokens, ErrorsNameTheKeyAndTheFix) {
  auto msg_of = [](const std::string& spec, int64_t block, int64_t vocab) -> std::string {
    DataContext ctx;
    ctx.block_size = block;
    ctx.vocab_size = vocab;
    try {
      open_data_source(spec, "train", ctx, "data.train");
    } catch (const UserError& e) {
      return e.message() + "\n  hint: " + e.hint();
    }
    ADD_FAILURE() << "expected UserError for " << spec;
    return "";
  };
  std::string m = msg_of("synthetic:tokens?vocab=10", 0, 0);
  EXPECT_NE(m.find("does not read token sequences"), std::string::npos) << m;
  m = msg_of("synthetic:tokens", 8, 0);
  EXPECT_NE(m.find("needs a vocabulary size"), std::string::npos) << m;
  m = msg_of("synthetic:tokens?vocab=100", 8, 64);
  EXPECT_NE(m.find("model has vocab_size 64"), std::string::npos) << m;
  EXPECT_NE(m.find("vocab <= 64"), std::string::npos) << m;
  m = msg_of("synthetic:tokens?vocab=10&block=4", 8, 64);
  EXPECT_NE(m.find("unknown parameter 'block'"), std::string::npos) << m;
  EXPECT_NE(m.find("vocab and n"), std::string::npos) << m;
  m = msg_of("synthetic:tokens?n=0", 8, 64);
  EXPECT_NE(m.find("n >= 1"), std::string::npos) << m;
}

}  // namespace
}  // namespace ptft
