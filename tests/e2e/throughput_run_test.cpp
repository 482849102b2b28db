// The pieces bench/gpt_train_bench.sh reads, end to end through the binary: `ptft pretrain` of a
// GPT on `synthetic:tokens` (no corpus), one train event per step with tokens/s, and the peak
// resident memory in summary.json, which must grow with the model it trained.
#include <gtest/gtest.h>

#include <cmath>

#include "run_ptft.h"

namespace {

// Runs `steps` steps of a GPT with `n_embd` width on random tokens; returns the run directory.
std::string pretrain_on_random_tokens(const e2e::TempDir& tmp, const std::string& name, int n_embd, int steps) {
  e2e::write_text(tmp.path(name + ".yaml"),
                  "model: {family: gpt, vocab_size: 64, n_positions: 16, n_embd: " + std::to_string(n_embd) +
                      ", n_layer: 4, n_head: 4}\n"
                      "data: {train: \"synthetic:tokens\"}\n"
                      "train: {steps: " + std::to_string(steps) +
                      ", batch_size: 2, warmup: 1, log_every: 1, eval_every: 0, save_every: 1000000}\n");
  auto run = e2e::run_ptft({"pretrain", "--config", tmp.path(name + ".yaml"), "--out", tmp.path(name), "--threads",
                            "1", "--quiet"});
  EXPECT_EQ(run.exit_code, 0) << run.text();
  return tmp.path(name);
}

TEST(ThroughputRunE2E, PretrainOnSyntheticTokensReportsTokensPerSecondAndPeakMemory) {
  e2e::TempDir tmp("throughput-run");
  const std::string small = pretrain_on_random_tokens(tmp, "small", 32, 4);
  int train_events = 0;
  for (const auto& e : e2e::read_jsonl(small + "/metrics.jsonl")) {
    if (e["event"] != "train") continue;
    ++train_events;
    EXPECT_GT(e["tokens_per_s"].get<double>(), 0.0) << e.dump();
    // Uniform random tokens over the model's 64 ids: the loss stays near ln(64) = 4.16.
    EXPECT_NEAR(e["loss"].get<double>(), std::log(64.0), 0.3) << e.dump();
  }
  EXPECT_EQ(train_events, 4);
  auto summary = e2e::read_json(small + "/summary.json");
  EXPECT_EQ(summary["tokens_seen"], 4 * 2 * 16);
  ASSERT_TRUE(summary["peak_rss_mb"].is_number()) << summary.dump(2);
  const double small_mb = summary["peak_rss_mb"].get<double>();
  EXPECT_GT(small_mb, 1.0);

  // 4 x 12 x 512^2 = 12.6M parameters; with gradients and AdamW's two moments >= 200 MB more.
  const std::string big = pretrain_on_random_tokens(tmp, "big", 512, 1);
  const double big_mb = e2e::read_json(big + "/summary.json")["peak_rss_mb"].get<double>();
  EXPECT_GT(big_mb - small_mb, 150.0) << small_mb << " MB -> " << big_mb << " MB";
}

}  // namespace
