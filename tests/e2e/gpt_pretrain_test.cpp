// GPT pre-training end to end on real text: `ptft tokenizer train` on licence texts, `ptft data
// prepare` into token shards, `ptft pretrain` of a small GPT-2 on those shards. Checks the run
// learns (validation perplexity falls well below the vocabulary size) and writes an HF-named
// GPT-2 checkpoint.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {
using e2e::contains;

const std::string kLicences = "/usr/share/common-licenses/";

TEST(GptPretrainE2E, TokenizerDataPrepareAndPretrainOnShards) {
  e2e::TempDir tmp("gpt-pretrain");
  auto tok = e2e::run_ptft({"tokenizer", "train", "--input", kLicences + "GPL-3", kLicences + "Apache-2.0",
                            kLicences + "MPL-2.0", "--vocab-size", "500", "--type", "bpe", "--out",
                            tmp.path("tok"), "--threads", "1"});
  ASSERT_EQ(tok.exit_code, 0) << tok.text();
  auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", tmp.path("tok"), "--input", kLicences,
                             "--out", tmp.path("shards"), "--val-fraction", "0.1", "--threads", "1", "--quiet"});
  ASSERT_EQ(prep.exit_code, 0) << prep.text();

  e2e::write_text(tmp.path("gpt.yaml"),
                  "model: {family: gpt, vocab_size: 500, n_positions: 64, n_embd: 64, n_layer: 2, n_head: 4}\n"
                  "data: {train: " + tmp.path("shards") + ", val: " + tmp.path("shards") + "}\n"
                  "train: {steps: 200, batch_size: 8, lr: 3.0e-3, warmup: 10, eval_every: 100, eval_batches: 8,\n"
                  "        save_every: 100, weight_decay: 0.0}\n");
  auto run = e2e::run_ptft({"pretrain", "--config", tmp.path("gpt.yaml"), "--out", tmp.path("run"),
                            "--threads", "1", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.text();

  std::vector<double> ppl;
  int with_mfu = 0, peaks = 0;
  for (const auto& e : e2e::read_jsonl(tmp.path("run") + "/metrics.jsonl")) {
    if (e["event"] == "eval") ppl.push_back(e["val_perplexity"].get<double>());
    if (e["event"] == "peak") ++peaks;
    // Throughput and MFU (against the measured matmul peak) in every train event.
    if (e["event"] == "train" && e.contains("mfu") && e["mfu"].get<double>() > 0 && e["tokens_per_s"].get<double>() > 0)
      ++with_mfu;
  }
  EXPECT_EQ(peaks, 1);
  EXPECT_EQ(with_mfu, 20);  // 200 steps, log_every 10
  ASSERT_EQ(ppl.size(), 2u);
  EXPECT_LT(ppl.back(), ppl.front());
  EXPECT_LT(ppl.back(), 100.0) << "a uniform guess over 500 tokens has perplexity 500; ppl " << ppl.front() << " -> " << ppl.back();

  auto cfg = e2e::read_json(tmp.path("run") + "/checkpoints/last/config.json");
  EXPECT_EQ(cfg["model_type"], "gpt2");
  EXPECT_EQ(cfg["n_embd"], 64);
  EXPECT_EQ(cfg["ptft"]["task"], "causal_lm");
  auto tensors = e2e::read_tensors(tmp.path("run") + "/checkpoints/last/model.safetensors");
  EXPECT_TRUE(tensors.count("transformer.h.1.attn.c_attn.weight"));
  EXPECT_TRUE(tensors.count("transformer.wte.weight"));

  // Shards from a 500-token tokenizer cannot feed a model with a smaller vocabulary.
  auto small = e2e::run_ptft({"pretrain", "--config", tmp.path("gpt.yaml"), "--out", tmp.path("small"),
                              "--threads", "1", "--quiet", "--set", "model.vocab_size=100"});
  EXPECT_EQ(small.exit_code, 1) << small.text();
  EXPECT_TRUE(contains(small.err, "the model has vocab_size 100")) << small.err;
  EXPECT_TRUE(contains(small.err, "set model.vocab_size to 500")) << small.err;

  // A preset (gpt-tiny: vocab_size 8000) without model.vocab_size follows the shards' tokenizer.
  e2e::write_text(tmp.path("preset.yaml"), "model: {family: gpt, preset: gpt-tiny, n_layer: 1}\n"
                                           "data: {train: " + tmp.path("shards") + "}\ntrain: {steps: 2, batch_size: 2}\n");
  auto preset = e2e::run_ptft({"pretrain", "--config", tmp.path("preset.yaml"), "--out", tmp.path("preset"), "--threads", "1"});
  ASSERT_EQ(preset.exit_code, 0) << preset.text();
  EXPECT_TRUE(contains(preset.err, "model.vocab_size 500: the tokenizer's (the preset has 8000")) << preset.err;
  EXPECT_EQ(e2e::read_json(tmp.path("preset/checkpoints/last/config.json"))["vocab_size"], 500);
}

TEST(GptPretrainE2E, ShardsNeedASequenceModel) {
  e2e::TempDir tmp("gpt-shards-mlp");
  auto tok = e2e::run_ptft({"tokenizer", "train", "--input", kLicences + "GPL-3", "--vocab-size", "400",
                            "--type", "bpe", "--out", tmp.path("tok"), "--threads", "1"});
  ASSERT_EQ(tok.exit_code, 0) << tok.text();
  auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", tmp.path("tok"), "--input", kLicences + "GPL-3",
                             "--out", tmp.path("shards"), "--quiet"});
  ASSERT_EQ(prep.exit_code, 0) << prep.text();
  auto run = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("run"), {"data.train=" + tmp.path("shards")}));
  EXPECT_EQ(run.exit_code, 1) << run.text();
  EXPECT_TRUE(contains(run.err, tmp.path("shards"))) << run.err;
}

}  // namespace

namespace {

// Presets are data (configs/models/*.yaml); the user's keys win over the preset's.
TEST(GptPretrainE2E, PresetFillsArchitectureAndUserKeysWin) {
  e2e::TempDir tmp("gpt-preset");
  e2e::write_text(tmp.path("p.yaml"),
                  "model: {family: gpt, preset: gpt-tinny}\ndata: {train: \"synthetic:spirals\"}\n");
  auto bad = e2e::run_ptft({"pretrain", "--config", tmp.path("p.yaml"), "--out", tmp.path("bad"), "--quiet"});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_TRUE(e2e::contains(bad.err, "unknown model preset 'gpt-tinny'")) << bad.err;
  EXPECT_TRUE(e2e::contains(bad.err, "did you mean 'gpt-tiny'")) << bad.err;

  // A family that is not a name is a user error, not a crash.
  e2e::write_text(tmp.path("f.yaml"), "model: {family: [gpt]}\ndata: {train: \"synthetic:spirals\"}\n");
  auto fam = e2e::run_ptft({"pretrain", "--config", tmp.path("f.yaml"), "--out", tmp.path("f"), "--quiet"});
  EXPECT_EQ(fam.exit_code, 1) << fam.text();
  EXPECT_TRUE(e2e::contains(fam.err, "'model.family' must be a family name")) << fam.err;

  // A known preset plus overrides reaches the model's validation, which sees both sources.
  e2e::write_text(tmp.path("ok.yaml"),
                  "model: {family: gpt, preset: gpt-tiny, n_layer: 1, vocab_size: 300}\n"
                  "data: {train: \"synthetic:spirals\"}\n");
  auto ok = e2e::run_ptft({"pretrain", "--config", tmp.path("ok.yaml"), "--out", tmp.path("ok"), "--quiet",
                           "--set", "model.n_head=3"});
  EXPECT_EQ(ok.exit_code, 1) << ok.text();
  // n_embd 128 comes from the preset, n_head 3 from --set: the model's own validation names both.
  EXPECT_TRUE(e2e::contains(ok.err, "n_embd (128) must be divisible by model.n_head (3)")) << ok.err;
}

}  // namespace
