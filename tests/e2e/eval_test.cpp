// `ptft eval` end to end: loss and perplexity of a pre-trained GPT on a text file (every token
// but the first predicted once) and on the validation split of token shards.
#include <gtest/gtest.h>

#include <cmath>

#include "run_ptft.h"
#include "tiny_checkpoint.h"

namespace {
using e2e::contains;

TEST(EvalE2E, TextFileAndShardSplit) {
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  const std::string text = e2e::read_text(e2e::kGpl).substr(0, 3000);
  e2e::write_text(tmp.path("test.txt"), text);
  auto enc = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", ckpt + "/tokenizer", "--input", tmp.path("test.txt"),
                            "--json"});
  ASSERT_EQ(enc.exit_code, 0) << enc.text();
  const int64_t n = nlohmann::json::parse(enc.out)["count"].get<int64_t>();

  auto r = e2e::run_ptft({"eval", "--model", ckpt, "--data", tmp.path("test.txt"), "--json", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto m = nlohmann::json::parse(r.out);
  EXPECT_EQ(m.size(), 3u) << r.out;
  const double loss = m.at("loss").get<double>();
  EXPECT_NEAR(m.at("perplexity").get<double>(), std::exp(loss), 1e-9 * std::exp(loss));
  EXPECT_EQ(m.at("tokens").get<int64_t>(), n - 1);
  // 30 steps on this very text: better than a uniform guess over 400 tokens.
  EXPECT_LT(loss, std::log(400.0)) << r.out;

  // The batch size changes nothing but speed.
  auto b1 = e2e::run_ptft({"eval", "--model", ckpt, "--data", tmp.path("test.txt"), "--json", "--threads", "1",
                           "--batch-size", "1"});
  ASSERT_EQ(b1.exit_code, 0) << b1.text();
  EXPECT_NEAR(nlohmann::json::parse(b1.out).at("loss").get<double>(), loss, 1e-5);

  // Human output.
  auto human = e2e::run_ptft({"eval", "--model", ckpt, "--data", tmp.path("test.txt"), "--threads", "1"});
  ASSERT_EQ(human.exit_code, 0) << human.text();
  EXPECT_TRUE(contains(human.out, "perplexity")) << human.out;

  // The validation split of the shards: (tokens - 1) / T windows of T tokens.
  auto s = e2e::run_ptft({"eval", "--model", tmp.path("run"), "--data", tmp.path("shards"), "--json", "--threads", "1"});
  ASSERT_EQ(s.exit_code, 0) << s.text();
  const int64_t val = e2e::read_json(tmp.path("shards/meta.json"))["tokens"]["val"].get<int64_t>();
  const int64_t T = e2e::kTinyContext;
  EXPECT_EQ(nlohmann::json::parse(s.out).at("tokens").get<int64_t>(), (val - 1) / T * T) << s.out;
  // --max-tokens: only the first windows (whole batches of --batch-size windows).
  auto few = e2e::run_ptft({"eval", "--model", tmp.path("run"), "--data", tmp.path("shards"), "--json", "--threads",
                            "1", "--batch-size", "1", "--max-tokens", std::to_string(2 * T)});
  ASSERT_EQ(few.exit_code, 0) << few.text();
  EXPECT_EQ(nlohmann::json::parse(few.out).at("tokens").get<int64_t>(), 2 * T) << few.out;

  // Errors: too short, missing data, missing model.
  e2e::write_text(tmp.path("one.txt"), "a");
  auto short_r = e2e::run_ptft({"eval", "--model", ckpt, "--data", tmp.path("one.txt"), "--threads", "1"});
  EXPECT_EQ(short_r.exit_code, 1) << short_r.text();
  EXPECT_TRUE(contains(short_r.err, "too short")) << short_r.err;
  auto no_data = e2e::run_ptft({"eval", "--model", ckpt, "--data", tmp.path("nope.txt"), "--threads", "1"});
  EXPECT_EQ(no_data.exit_code, 1) << no_data.text();
  EXPECT_TRUE(contains(no_data.err, tmp.path("nope.txt"))) << no_data.err;
  // Image data given to a language model: named as what it is, not as text with a bad byte.
  e2e::write_text(tmp.path("images.idx"), std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x1c\0\0\0\x1c", 16) +
                                              std::string(2 * 28 * 28, '\x7f'));
  auto idx = e2e::run_ptft({"eval", "--model", ckpt, "--data", tmp.path("images.idx"), "--threads", "1"});
  EXPECT_EQ(idx.exit_code, 1) << idx.text();
  EXPECT_TRUE(contains(idx.err, "is not a text file: it holds IDX data")) << idx.err;
  EXPECT_TRUE(contains(idx.err, "image classifier")) << idx.err;
  EXPECT_FALSE(contains(idx.err, "iconv")) << idx.err;
  auto gz = e2e::run_ptft({"eval", "--model", ckpt, "--data", "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"});
  EXPECT_EQ(gz.exit_code, 1) << gz.text();
  EXPECT_TRUE(contains(gz.err, "gzip-compressed data")) << gz.err;
  auto no_model = e2e::run_ptft({"eval", "--model", tmp.path("nope"), "--data", tmp.path("test.txt")});
  EXPECT_EQ(no_model.exit_code, 1) << no_model.text();
  EXPECT_TRUE(contains(no_model.err, tmp.path("nope"))) << no_model.err;
}

}  // namespace
