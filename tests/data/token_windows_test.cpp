// Tests for ptft/data/token_windows.h on hand-made shard directories whose token i is i, so a
// window's content shows where it came from: windows are real slices (across shard
// boundaries), targets are inputs shifted by one, batches are pure functions of their address,
// ranks read disjoint examples, eval windows tile the split, and bad directories are errors.
#include "ptft/data/token_windows.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/data/shard.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

const std::string kHash = "1234abcd5678ef00";

class TokenWindowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (sfs::temp_directory_path() / "ptft-windows-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { sfs::remove_all(dir_); }

  // A shard directory: `train` tokens 0..n_train-1 in shards of `per_shard`, val tokens
  // 100000..100000+n_val-1 (uint32).
  std::string make(int64_t n_train, int64_t n_val, int64_t per_shard, const std::string& name = "shards") {
    const std::string out = dir_ + "/" + name;
    sfs::create_directories(out);
    nlohmann::json shards = {{"train", nlohmann::json::array()}, {"val", nlohmann::json::array()}};
    auto write_split = [&](const std::string& split, int64_t first, int64_t n) {
      for (int64_t begin = 0, k = 0; begin < n; begin += per_shard, ++k) {
        char file[32];
        std::snprintf(file, sizeof(file), "%s-%05d.bin", split.c_str(), static_cast<int>(k));
        shard::Writer w(out + "/" + file, shard::Dtype::kUint32);
        std::vector<int32_t> ids;
        for (int64_t i = begin; i < std::min(n, begin + per_shard); ++i) ids.push_back(static_cast<int32_t>(first + i));
        w.append(ids);
        w.commit();
        shards[split].push_back({{"file", file}, {"tokens", ids.size()}});
      }
    };
    write_split("train", 0, n_train);
    write_split("val", 100000, n_val);
    nlohmann::json meta = {
        {"tokenizer", {{"kind", "fake"}, {"hash", kHash}, {"vocab_size", 200000}, {"eot_id", 0}}},
        {"dtype", "uint32"},
        {"documents", {{"train", 1}, {"val", 1}}},
        {"tokens", {{"train", n_train}, {"val", n_val}}},
        {"shards", shards},
        {"created_by", "token_windows_test"}};
    std::ofstream(out + "/meta.json") << meta.dump(2);
    return out;
  }

  static DataContext ctx(int rank = 0, int world = 1, uint64_t seed = 1337) {
    DataContext c;
    c.seed = seed;
    c.rank = rank;
    c.world_size = world;
    c.block_size = 16;
    return c;
  }

  std::string dir_;
};

template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.full();
  }
  return "";
}

bool same(const Batch& a, const Batch& b) {
  return a.weight == b.weight && torch::equal(a.data.at("input_ids"), b.data.at("input_ids")) &&
         torch::equal(a.data.at("targets"), b.data.at("targets"));
}

TEST_F(TokenWindowsTest, WindowsAreSlicesWithTargetsShiftedByOne) {
  const auto dir = make(1000, 100, /*per_shard=*/97);  // windows often cross shard boundaries
  auto src = open_token_windows(dir, "train", ctx(), 16, kHash);
  EXPECT_EQ(src->tokens(), 1000);
  EXPECT_EQ(src->size(), 999 / 16);
  Batch b = src->train_batch({5, 0, 32, 1});
  const auto& x = b.data.at("input_ids");
  const auto& y = b.data.at("targets");
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(x.scalar_type(), torch::kLong);
  EXPECT_EQ(y.scalar_type(), torch::kLong);
  EXPECT_EQ(b.weight, 32 * 16);
  auto xa = x.accessor<int64_t, 2>();
  auto ya = y.accessor<int64_t, 2>();
  for (int64_t r = 0; r < 32; ++r) {
    const int64_t start = xa[r][0];
    EXPECT_GE(start, 0);
    EXPECT_LE(start + 16, 999);  // the target of the last input exists
    for (int64_t k = 0; k < 16; ++k) {
      EXPECT_EQ(xa[r][k], start + k) << "row " << r;
      EXPECT_EQ(ya[r][k], start + k + 1) << "row " << r;
    }
  }
}

TEST_F(TokenWindowsTest, BatchesArePureFunctionsOfTheirAddress) {
  const auto dir = make(5000, 100, 1000);
  auto a = open_token_windows(dir, "train", ctx(), 16, kHash);
  auto b = open_token_windows(dir, "train", ctx(), 16, kHash);
  for (int64_t step : {0, 1, 99, 12345})
    for (int64_t micro = 0; micro < 2; ++micro)
      EXPECT_TRUE(same(a->train_batch({step, micro, 8, 2}), b->train_batch({step, micro, 8, 2}))) << step;
  // Out of order and repeated: the same.
  Batch first = a->train_batch({3, 1, 8, 2});
  (void)a->train_batch({0, 0, 8, 2});
  EXPECT_TRUE(same(first, a->train_batch({3, 1, 8, 2})));
  // Another step, micro-batch or seed: other windows.
  EXPECT_FALSE(same(first, a->train_batch({4, 1, 8, 2})));
  EXPECT_FALSE(same(first, a->train_batch({3, 0, 8, 2})));
  auto other_seed = open_token_windows(dir, "train", ctx(0, 1, 7), 16, kHash);
  EXPECT_FALSE(same(first, other_seed->train_batch({3, 1, 8, 2})));
}

TEST_F(TokenWindowsTest, RanksReadTheirOwnSliceOfTheSameEffectiveBatch) {
  const auto dir = make(50000, 100, 20000);
  auto single = open_token_windows(dir, "train", ctx(0, 1), 16, kHash);
  auto rank0 = open_token_windows(dir, "train", ctx(0, 2), 16, kHash);
  auto rank1 = open_token_windows(dir, "train", ctx(1, 2), 16, kHash);
  for (int64_t step : {0, 7}) {
    Batch r0 = rank0->train_batch({step, 0, 4, 1});
    Batch r1 = rank1->train_batch({step, 0, 4, 1});
    EXPECT_FALSE(same(r0, r1)) << "ranks must not read the same windows";
    // One rank with 8 rows reads exactly what two ranks with 4 rows each read.
    Batch all = single->train_batch({step, 0, 8, 1});
    EXPECT_TRUE(torch::equal(all.data.at("input_ids").slice(0, 0, 4), r0.data.at("input_ids")));
    EXPECT_TRUE(torch::equal(all.data.at("input_ids").slice(0, 4, 8), r1.data.at("input_ids")));
    // ... and so does one rank accumulating two micro-batches of 4.
    EXPECT_TRUE(torch::equal(all.data.at("input_ids").slice(0, 4, 8),
                             single->train_batch({step, 1, 4, 2}).data.at("input_ids")));
  }
}

TEST_F(TokenWindowsTest, TrainStartsCoverTheWholeRange) {
  const auto dir = make(40, 0, 40);
  auto src = open_token_windows(dir, "train", ctx(), 16, kHash);
  std::set<int64_t> starts;
  for (int64_t e = 0; e < 2000; ++e) starts.insert(src->train_window_start(e));
  EXPECT_EQ(*starts.begin(), 0);
  EXPECT_EQ(*starts.rbegin(), 40 - 16 - 1);
  EXPECT_EQ(starts.size(), 24u);  // every start in [0, 23] is drawn
}

TEST_F(TokenWindowsTest, EvalWindowsTileTheSplitOnce) {
  const auto dir = make(1000, 300, 64);
  auto val = open_token_windows(dir, "val", ctx(), 16, kHash);
  EXPECT_EQ(val->tokens(), 300);
  const int64_t windows = 299 / 16;  // 18: the last 11 tokens do not fill a window
  EXPECT_EQ(val->size(), windows);
  EXPECT_EQ(val->eval_batches(5), 4);
  std::vector<int64_t> seen;
  int64_t weight = 0;
  for (int64_t i = 0; i < val->eval_batches(5); ++i) {
    Batch b = val->eval_batch(i, 5);
    weight += b.weight;
    auto x = b.data.at("input_ids");
    auto y = b.data.at("targets");
    EXPECT_EQ(x.size(0), i < 3 ? 5 : 3);
    EXPECT_TRUE(torch::equal(x.slice(1, 1, 16), y.slice(1, 0, 15)));
    auto flat = x.reshape({-1});
    seen.insert(seen.end(), flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
  }
  ASSERT_EQ(static_cast<int64_t>(seen.size()), windows * 16);
  for (int64_t i = 0; i < windows * 16; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], 100000 + i) << i;
  EXPECT_EQ(weight, windows * 16);
  // Evaluation is repeatable.
  EXPECT_TRUE(same(val->eval_batch(1, 5), val->eval_batch(1, 5)));
}

TEST_F(TokenWindowsTest, ConcurrentCallsGiveTheSameBatches) {
  const auto dir = make(20000, 100, 3000);
  auto src = open_token_windows(dir, "train", ctx(), 16, kHash);
  std::vector<Batch> serial;
  for (int64_t s = 0; s < 64; ++s) serial.push_back(src->train_batch({s, 0, 8, 1}));
  std::vector<Batch> parallel(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int64_t s = t; s < 64; s += 4) parallel[static_cast<std::size_t>(s)] = src->train_batch({s, 0, 8, 1});
    });
  for (auto& th : threads) th.join();
  for (std::size_t s = 0; s < 64; ++s) EXPECT_TRUE(same(serial[s], parallel[s])) << s;
}

TEST_F(TokenWindowsTest, CorpusSmallerThanOneWindowIsAnError) {
  const auto dir = make(16, 5, 100);
  std::string msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, kHash); });
  EXPECT_NE(msg.find("16 tokens"), std::string::npos) << msg;
  EXPECT_NE(msg.find("block size 16 + 1 = 17"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir), std::string::npos) << msg;
  msg = user_error([&] { open_token_windows(dir, "val", ctx(), 5, kHash); });
  EXPECT_NE(msg.find("val split"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--val-fraction"), std::string::npos) << msg;
  EXPECT_NO_THROW(open_token_windows(dir, "train", ctx(), 15, kHash));
}

TEST_F(TokenWindowsTest, TokenizerHashMismatchIsAnError) {
  const auto dir = make(1000, 100, 1000);
  const std::string msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, "ffff0000ffff0000"); });
  EXPECT_NE(msg.find(kHash), std::string::npos) << msg;
  EXPECT_NE(msg.find("ffff0000ffff0000"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir), std::string::npos) << msg;
  // Unknown expected hash: a warning, not an error.
  EXPECT_NO_THROW(open_token_windows(dir, "train", ctx(), 16, ""));
}

TEST_F(TokenWindowsTest, DamagedDirectoriesAreErrors) {
  // A shard that does not hold what meta.json lists (1000 tokens in shards of 400, 400, 200).
  auto dir = make(1000, 100, 400, "mixed");
  sfs::copy_file(dir + "/train-00002.bin", dir + "/train-00000.bin", sfs::copy_options::overwrite_existing);
  std::string msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, kHash); });
  EXPECT_NE(msg.find("train-00000.bin' holds 200 tokens"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lists 400"), std::string::npos) << msg;

  dir = make(1000, 100, 400, "missing");
  sfs::remove(dir + "/train-00001.bin");
  msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, kHash); });
  EXPECT_NE(msg.find("cannot open token shard '" + dir + "/train-00001.bin'"), std::string::npos) << msg;

  dir = make(1000, 100, 400, "truncated");
  sfs::resize_file(dir + "/train-00001.bin", 100);
  msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, kHash); });
  EXPECT_NE(msg.find("train-00001.bin' is 100 bytes"), std::string::npos) << msg;

  std::ofstream(dir + "/meta.json") << "{\"tokenizer\": {}}";
  msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, kHash); });
  EXPECT_NE(msg.find("has no 'tokenizer.hash'"), std::string::npos) << msg;
  std::ofstream(dir + "/meta.json") << "{not json";
  msg = user_error([&] { open_token_windows(dir, "train", ctx(), 16, kHash); });
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
}

TEST_F(TokenWindowsTest, OpenDataSourceRecognisesShardDirectories) {
  const auto dir = make(1000, 100, 1000);
  auto src = open_data_source(dir, "train", ctx(), "data.train");
  EXPECT_NE(src->describe().find("1000 tokens"), std::string::npos) << src->describe();
  EXPECT_EQ(src->train_batch({0, 0, 2, 1}).data.at("input_ids").size(1), 16);

  DataContext no_tokens = ctx();
  no_tokens.block_size = 0;
  const std::string msg = user_error([&] { open_data_source(dir, "train", no_tokens, "data.train"); });
  EXPECT_NE(msg.find("data.train"), std::string::npos) << msg;
  EXPECT_NE(msg.find("token shard directory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gpt"), std::string::npos) << msg;

  DataContext tiny = ctx();
  tiny.block_size = 5000;
  const std::string msg2 = user_error([&] { open_data_source(dir, "train", tiny, "data.train"); });
  EXPECT_EQ(msg2.rfind("data.train: ", 0), 0u) << msg2;
}

}  // namespace
}  // namespace ptft
