// The pieces bench/gpt_train_bench.sh reads, end to end through the binary: `ptft pretrain` of a
// GPT on `synthetic:tokens` (no corpus), one train event per step with tokens/s, and the peak
// resident memory in summary.json, which must grow with the model it trained. train.profile_steps:
// RUN/profile.md with libtorch's ops and ptft's fused ones by self time, also for a run that ends
// inside the window; none without it; a negative value is a UserError naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "run_ptft.h"

namespace {

// Runs `steps` steps of a GPT with `n_embd` width on random tokens; returns the run directory.
std::string pretrain_on_random_tokens(const e2e::TempDir& tmp, const std::string& name, int n_embd, int steps,
                                      const std::vector<std::string>& extra = {}) {
  e2e::write_text(tmp.path(name + ".yaml"),
                  "model: {family: gpt, vocab_size: 64, n_positions: 16, n_embd: " + std::to_string(n_embd) +
                      ", n_layer: 4, n_head: 4}\n"
                      "data: {train: \"synthetic:tokens\"}\n"
                      "train: {steps: " + std::to_string(steps) +
                      ", batch_size: 2, warmup: 1, log_every: 1, eval_every: 0, save_every: 1000000}\n");
  std::vector<std::string> args{"pretrain", "--config", tmp.path(name + ".yaml"), "--out", tmp.path(name),
                                "--threads", "1", "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto run = e2e::run_ptft(args);
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

TEST(ThroughputRunE2E, ProfileStepsWritesEachOpsSelfTimePerStep) {
  e2e::TempDir tmp("profile-run");
  const std::string plain = pretrain_on_random_tokens(tmp, "plain", 32, 3);
  EXPECT_FALSE(std::filesystem::exists(plain + "/profile.md"));

  const std::string run = pretrain_on_random_tokens(tmp, "profiled", 32, 6, {"--set", "train.profile_steps=2"});
  const std::string md = e2e::read_text(run + "/profile.md");
  EXPECT_NE(md.find("2 optimizer step(s) from step 3"), std::string::npos) << md;
  for (const char* op : {"| aten::mm |", "| ptft::gelu_tanh |", "| ptft::cross_entropy_sum |", "| ptft::adamw_step |",
                         "| ptft::attention_softmax |", "## By op and input shapes", "[2,16,32]"})
    EXPECT_NE(md.find(op), std::string::npos) << op << "\n" << md;

  // The run ends inside the window: the steps it profiled.
  const std::string short_run = pretrain_on_random_tokens(tmp, "short", 32, 3, {"--set", "train.profile_steps=5"});
  EXPECT_NE(e2e::read_text(short_run + "/profile.md").find("1 optimizer step(s) from step 3"), std::string::npos);

  e2e::write_text(tmp.path("bad.yaml"), "model: {family: gpt, vocab_size: 64, n_positions: 16, n_embd: 32, n_layer: 1, "
                                         "n_head: 4}\ndata: {train: \"synthetic:tokens\"}\ntrain: {steps: 2, batch_size: 2}\n");
  auto bad = e2e::run_ptft({"pretrain", "--config", tmp.path("bad.yaml"), "--out", tmp.path("bad"), "--quiet", "--set",
                            "train.profile_steps=-1"});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_NE(bad.text().find("train.profile_steps must be >= 0"), std::string::npos) << bad.text();
  EXPECT_FALSE(std::filesystem::exists(tmp.path("bad")));
}

}  // namespace
