// Tests for ptft/data/mlm_windows.h on shards that `data prepare` (prepare_text_data) makes from
// a small text with a WordPiece vocabulary: sequences are [CLS] + T-2 shard tokens + [SEP];
// the selection rate and the 80/10/10 split match BERT's within binomial tolerances; specials are
// never selected; targets hold the original tokens; batches are pure functions of their address
// and fresh for every example; eval masks are the same at every evaluation; non-BERT vocabularies
// are refused with a message.
#include "ptft/data/mlm_windows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/data/text_prepare.h"
#include "ptft/tokenizer/wordpiece.h"

namespace ptft {
namespace {

std::shared_ptr<WordPiece> vocab() {
  std::vector<std::string> t = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (const char* w : {"the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "and", "then", ".", ","})
    t.push_back(w);
  return std::make_shared<WordPiece>(t, WordPieceOptions{});
}

class MlmWindowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = vocab();
    const std::string text = dir_.path + "/text";
    std::filesystem::create_directories(text);
    for (int d = 0; d < 40; ++d) {
      std::ofstream f(text + "/doc" + std::to_string(d) + ".txt");
      for (int i = 0; i < 60 + d; ++i) f << (i % 3 ? "the cat sat on a mat , " : "a dog ran far away and then . ");
    }
    PrepareOptions o;
    o.inputs = {text};
    o.out = dir_.path + "/shards";
    o.val_fraction = 0.2;
    o.threads = 1;
    prepare_text_data(*tok_, o);
    ctx_.tokenizer = tok_;
    ctx_.seed = 7;
    ctx_.mlm_probability = 0.15;
  }
  test::TempDir dir_{"mlm"};
  std::shared_ptr<WordPiece> tok_;
  DataContext ctx_;
};

TEST_F(MlmWindowsTest, SequencesArePackedBetweenClsAndSep) {
  MlmWindows src(dir_.path + "/shards", "train", ctx_, 32);
  EXPECT_NE(src.describe().find("15% of tokens, [CLS] + 30 + [SEP]"), std::string::npos) << src.describe();
  EXPECT_EQ(src.describe().find("windows of"), std::string::npos) << src.describe();
  EXPECT_NE(src.describe().find("tokenizer wordpiece"), std::string::npos) << src.describe();
  Batch b = src.train_batch({3, 0, 8, 1});
  const auto& ids = b.data.at("input_ids");
  const auto& tg = b.data.at("targets");
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{8, 32}));
  ASSERT_EQ(tg.sizes(), (std::vector<int64_t>{8, 32}));
  EXPECT_TRUE(ids.select(1, 0).eq(2).all().item<bool>());   // [CLS]
  EXPECT_TRUE(ids.select(1, 31).eq(3).all().item<bool>());  // [SEP]
  EXPECT_EQ(tg.select(1, 0).ne(-100).sum().item<int64_t>(), 0);
  EXPECT_EQ(tg.select(1, 31).ne(-100).sum().item<int64_t>(), 0);
  EXPECT_EQ(b.weight, tg.ne(-100).sum().item<int64_t>());
  // Every sequence predicts something; unselected positions keep their token.
  EXPECT_TRUE(tg.ne(-100).any(1).all().item<bool>());
}

TEST_F(MlmWindowsTest, SelectionAndReplacementRatesAreBerts) {
  MlmWindows src(dir_.path + "/shards", "train", ctx_, 64);
  int64_t candidates = 0, selected = 0, masked = 0, kept = 0, random = 0;
  for (int step = 0; step < 60; ++step) {
    Batch b = src.train_batch({step, 0, 16, 1});
    const auto ids = b.data.at("input_ids"), tg = b.data.at("targets");
    auto sel = tg.ne(-100);
    selected += sel.sum().item<int64_t>();
    candidates += 16 * 62;  // the T - 2 content positions (a rare document-end [SEP] among them)
    masked += (sel & ids.eq(4)).sum().item<int64_t>();
    kept += (sel & ids.eq(tg)).sum().item<int64_t>();
    random += (sel & ids.ne(4) & ids.ne(tg)).sum().item<int64_t>();
    // specials ([CLS], [SEP], [PAD], [MASK] as an original) are never targets
    EXPECT_EQ((sel & (tg.eq(2) | tg.eq(3) | tg.eq(0) | tg.eq(4))).sum().item<int64_t>(), 0);
  }
  const double rate = static_cast<double>(selected) / static_cast<double>(candidates);
  EXPECT_NEAR(rate, 0.15, 0.01) << selected << " of " << candidates;  // binomial sd ~0.0018; [SEP]s lower it a little
  const double n = static_cast<double>(selected);
  EXPECT_NEAR(masked / n, 0.8, 0.02);
  // "random" draws from the 14 non-special tokens, the original among them: kept = 0.1 + 0.1 / 14.
  EXPECT_NEAR(kept / n, 0.1 + 0.1 / 14, 0.015);
  EXPECT_NEAR(random / n, 0.1 * 13 / 14, 0.015);
}

TEST_F(MlmWindowsTest, UnknownTokensAreNeverSelected) {
  MlmWindows src(dir_.path + "/shards", "train", ctx_, 32);
  // 30 content tokens: [UNK] (id 1) everywhere but every third position ("cat", id 6).
  auto content = torch::ones({64, 30}, torch::kLong);
  content.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, 30, 3)}, 6);
  Batch b = src.mask(content, 0, 99);
  const auto tg = b.data.at("targets");
  EXPECT_GT(b.weight, 0);
  EXPECT_EQ(tg.eq(1).sum().item<int64_t>(), 0);               // no [UNK] target
  EXPECT_EQ(tg.ne(-100).sum().item<int64_t>(), tg.eq(6).sum().item<int64_t>());
}

TEST_F(MlmWindowsTest, BatchesArePureFunctionsOfTheAddressAndFreshPerExample) {
  MlmWindows a(dir_.path + "/shards", "train", ctx_, 32);
  MlmWindows b(dir_.path + "/shards", "train", ctx_, 32);
  Batch x = a.train_batch({5, 1, 4, 2}), y = b.train_batch({5, 1, 4, 2});
  EXPECT_TRUE(torch::equal(x.data.at("input_ids"), y.data.at("input_ids")));
  EXPECT_TRUE(torch::equal(x.data.at("targets"), y.data.at("targets")));
  // The same step with one micro-batch of 8 holds these 4 examples as its second half.
  Batch whole = a.train_batch({5, 0, 8, 1});
  EXPECT_TRUE(torch::equal(whole.data.at("targets").slice(0, 4, 8), x.data.at("targets")));
  Batch other = a.train_batch({6, 1, 4, 2});
  EXPECT_FALSE(torch::equal(other.data.at("targets"), x.data.at("targets")));
  DataContext seeded = ctx_;
  seeded.seed = 8;
  MlmWindows c(dir_.path + "/shards", "train", seeded, 32);
  EXPECT_FALSE(torch::equal(c.train_batch({5, 1, 4, 2}).data.at("targets"), x.data.at("targets")));
}

TEST_F(MlmWindowsTest, EvalMasksRepeatAndCoverTheSplit) {
  MlmWindows v(dir_.path + "/shards", "val", ctx_, 32);
  ASSERT_GT(v.eval_batches(4), 0);
  Batch e1 = v.eval_batch(0, 4), e2 = v.eval_batch(0, 4);
  EXPECT_TRUE(torch::equal(e1.data.at("input_ids"), e2.data.at("input_ids")));
  EXPECT_TRUE(torch::equal(e1.data.at("targets"), e2.data.at("targets")));
  EXPECT_EQ(v.size(), v.eval_batches(1));
}

TEST_F(MlmWindowsTest, NonBertVocabulariesAndBadProbabilitiesAreRefused) {
  std::vector<std::string> t = {"[UNK]", "the", "cat", "<|endoftext|>"};
  DataContext c = ctx_;
  c.tokenizer = std::make_shared<WordPiece>(t, WordPieceOptions{});
  try {
    MlmWindows src(dir_.path + "/shards", "train", c, 32);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("[CLS]"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("--family bert"), std::string::npos) << e.hint();
  }
  c = ctx_;
  c.mlm_probability = 1.5;
  EXPECT_THROW(MlmWindows(dir_.path + "/shards", "train", c, 32), UserError);
}

}  // namespace
}  // namespace ptft
