// GPT fine-tuning end to end with each TransferPlan strategy, on the tiny pre-trained GPT of
// gpt_fixture.h (general licences) moved to the GPL family (domain): what trains and what stays
// bit-identical, LoRA adapter files in PEFT's layout, the forgetting watch on the general data,
// the tokenizer carried into checkpoints, and the errors for bad transfer settings.
#include <gtest/gtest.h>

#include "gpt_fixture.h"

namespace {
using e2e::contains;
namespace sfs = std::filesystem;

struct Finetuned {
  e2e::Result result;
  std::string run;
  e2e::TensorBytesMap weights;  // checkpoints/last
};

Finetuned finetune(const e2e::TempDir& tmp, const std::string& name, const std::vector<std::string>& sets) {
  const auto& g = e2e::tiny_gpt();
  Finetuned f;
  f.run = tmp.path(name);
  e2e::write_text(tmp.path(name + ".yaml"), "data: {train: " + g.domain + ", val: " + g.domain + "}\n" +
                                                "train: {steps: 12, batch_size: 4, lr: 1.0e-3, warmup: 0, eval_every: 12,\n"
                                                "        eval_batches: 2, save_every: 12, weight_decay: 0.0}\n");
  std::vector<std::string> args = {"finetune", "--config", tmp.path(name + ".yaml"), "--from", g.ckpt,
                                   "--out", f.run, "--threads", "1", "--quiet"};
  for (const auto& s : sets) args = e2e::concat(args, {"--set", s});
  f.result = e2e::run_ptft(args);
  if (f.result.exit_code == 0) f.weights = e2e::read_tensors(f.run + "/checkpoints/last/model.safetensors");
  return f;
}

// Names of tensors whose bytes differ between two weight maps (same names expected).
std::set<std::string> changed(const e2e::TensorBytesMap& a, const e2e::TensorBytesMap& b) {
  std::set<std::string> out;
  for (const auto& [name, bytes] : b) {
    auto it = a.find(name);
    if (it == a.end() || it->second != bytes) out.insert(name);
  }
  return out;
}

const e2e::TensorBytesMap& pretrained() {
  static const e2e::TensorBytesMap w = e2e::read_tensors(e2e::tiny_gpt().ckpt + "/model.safetensors");
  return w;
}

TEST(GptFinetuneE2E, FreezeKeepsEmbeddingsAndFirstBlockAndWatchesForgetting) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  auto f = finetune(tmp, "freeze", {"finetune.strategy=freeze", "finetune.freeze_layers=1"});
  ASSERT_EQ(f.result.exit_code, 0) << f.result.text();
  auto diff = changed(pretrained(), f.weights);
  for (const auto& n : diff) {
    EXPECT_TRUE(n.rfind("transformer.h.1.", 0) == 0 || n.rfind("transformer.ln_f.", 0) == 0) << n << " changed";
  }
  EXPECT_TRUE(diff.count("transformer.h.1.attn.c_attn.weight"));

  // Both curves: domain validation and general (pre-training) validation, from step 0.
  std::vector<nlohmann::json> evals;
  for (const auto& e : e2e::read_jsonl(f.run + "/metrics.jsonl"))
    if (e["event"] == "eval") evals.push_back(e);
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_EQ(evals[0]["step"], 0);
  for (const auto& e : evals) {
    EXPECT_TRUE(e.contains("val_loss")) << e.dump();
    EXPECT_TRUE(e.contains("general_perplexity")) << e.dump();
  }
  auto summary = e2e::read_json(f.run + "/summary.json");
  ASSERT_TRUE(summary.contains("forgetting")) << summary.dump(2);
  EXPECT_EQ(summary["forgetting"]["perplexity"]["before"], evals[0]["general_perplexity"]);
  EXPECT_EQ(summary["forgetting"]["perplexity"]["after"], evals[1]["general_perplexity"]);
  EXPECT_EQ(summary["first_eval"]["val_loss"], evals[0]["val_loss"]);

  // The tokenizer travels with every checkpoint.
  EXPECT_TRUE(sfs::exists(f.run + "/checkpoints/last/tokenizer/tokenizer_config.json"));
  EXPECT_TRUE(sfs::exists(e2e::tiny_gpt().ckpt + "/tokenizer/tokenizer_config.json"));
}

TEST(GptFinetuneE2E, LoraTrainsOnlyAdaptersAndWritesPeftFiles) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  auto f = finetune(tmp, "lora", {"finetune.strategy=lora", "finetune.lora={r: 4, alpha: 8, targets: [c_attn]}"});
  ASSERT_EQ(f.result.exit_code, 0) << f.result.text();
  for (const auto& [name, bytes] : pretrained()) {
    ASSERT_TRUE(f.weights.count(name)) << name;
    EXPECT_EQ(f.weights.at(name), bytes) << name << " changed under LoRA";
  }
  EXPECT_TRUE(f.weights.count("transformer.h.0.attn.c_attn.lora_A.weight"));
  const std::string last = f.run + "/checkpoints/last";
  auto adapter = e2e::read_tensors(last + "/adapter_model.safetensors");
  EXPECT_EQ(adapter.size(), 4u);  // 2 blocks x (A, B)
  EXPECT_TRUE(adapter.count("base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"));
  auto ac = e2e::read_json(last + "/adapter_config.json");
  EXPECT_EQ(ac["peft_type"], "LORA");
  EXPECT_EQ(ac["r"], 4);
  auto summary = e2e::read_json(f.run + "/summary.json");
  EXPECT_EQ(summary["trainable_parameters"], 2 * (4 * 32 + 96 * 4));

  // Export: a plain ptft checkpoint needs the adapters merged (hf writes a PEFT adapter directory,
  // hf_export_test.cpp); merged, c_attn = W + alpha/r B A, no adapter tensors.
  auto unmerged = e2e::run_ptft({"export", "--model", f.run, "--format", "ptft", "--out", tmp.path("plain")});
  EXPECT_EQ(unmerged.exit_code, 1) << unmerged.text();
  EXPECT_TRUE(contains(unmerged.err, "--merge-lora")) << unmerged.err;
  auto merged = e2e::run_ptft({"export", "--model", last, "--format", "ptft", "--merge-lora", "--out", tmp.path("merged")});
  ASSERT_EQ(merged.exit_code, 0) << merged.text();
  auto mw = e2e::read_tensors(tmp.path("merged") + "/model.safetensors");
  EXPECT_EQ(mw.size(), pretrained().size());
  EXPECT_NE(mw.at("transformer.h.0.attn.c_attn.weight"), pretrained().at("transformer.h.0.attn.c_attn.weight"));
  EXPECT_EQ(mw.at("transformer.h.0.mlp.c_fc.weight"), pretrained().at("transformer.h.0.mlp.c_fc.weight"));
  EXPECT_FALSE(e2e::read_json(tmp.path("merged") + "/config.json")["ptft"].contains("lora"));
  EXPECT_TRUE(sfs::exists(tmp.path("merged") + "/tokenizer/tokenizer_config.json"));

  // A LoRA checkpoint loads again (adapters re-attached from config.json): continuing from it
  // fine-tunes the merged model.
  auto again = finetune(tmp, "again", {"finetune.from=" + last, "train.steps=2"});
  EXPECT_EQ(again.result.exit_code, 0) << again.result.text();
}

TEST(GptFinetuneE2E, HeadOnlyAndGradualUnfreezingAndReplay) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  auto head = finetune(tmp, "head", {"finetune.strategy=head"});
  ASSERT_EQ(head.result.exit_code, 0) << head.result.text();
  EXPECT_EQ(changed(pretrained(), head.weights),
            (std::set<std::string>{"transformer.wte.weight", "transformer.ln_f.weight", "transformer.ln_f.bias"}));

  auto gradual = finetune(tmp, "gradual", {"finetune.unfreeze_every=4", "finetune.layer_lr_decay=0.8"});
  ASSERT_EQ(gradual.result.exit_code, 0) << gradual.result.text();
  int unfreezes = 0;
  for (const auto& e : e2e::read_jsonl(gradual.run + "/metrics.jsonl"))
    if (e["event"] == "unfreeze") ++unfreezes;
  EXPECT_EQ(unfreezes, 2);  // steps 5 and 9: blocks 1 and 0; the embeddings would come at 13
  EXPECT_EQ(gradual.weights.at("transformer.wpe.weight"), pretrained().at("transformer.wpe.weight"));

  auto replay = finetune(tmp, "replay", {"finetune.replay.data=" + e2e::tiny_gpt().general,
                                         "finetune.replay.fraction=0.25"});
  ASSERT_EQ(replay.result.exit_code, 0) << replay.result.text();
}

TEST(GptFinetuneE2E, WithoutValidationDataTheGeneralSetIsStillWatched) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  // No data.val: the evaluations hold only general_* (forgetting), no val_loss to pick a best
  // checkpoint by; the run finishes (it failed at its first evaluation before).
  auto f = finetune(tmp, "noval", {"data.val=\"\""});
  ASSERT_EQ(f.result.exit_code, 0) << f.result.text();
  int evals = 0;
  for (const auto& e : e2e::read_jsonl(f.run + "/metrics.jsonl"))
    if (e["event"] == "eval") {
      ++evals;
      EXPECT_TRUE(e.contains("general_loss")) << e.dump();
      EXPECT_FALSE(e.contains("val_loss")) << e.dump();
    }
  EXPECT_GE(evals, 1);
  EXPECT_TRUE(sfs::exists(f.run + "/checkpoints/last/model.safetensors"));
}

TEST(GptFinetuneE2E, BadTransferSettingsAreUserErrors) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  auto lora = finetune(tmp, "badlora", {"finetune.strategy=lora", "finetune.lora.targets=[q_proj]"});
  EXPECT_EQ(lora.result.exit_code, 1) << lora.result.text();
  EXPECT_TRUE(contains(lora.result.err, "'q_proj' matches no projection")) << lora.result.err;
  EXPECT_TRUE(contains(lora.result.err, "transformer.h.0.attn.c_attn")) << lora.result.err;

  auto layers = finetune(tmp, "badfreeze", {"finetune.strategy=freeze", "finetune.freeze_layers=5"});
  EXPECT_EQ(layers.result.exit_code, 1) << layers.result.text();
  EXPECT_TRUE(contains(layers.result.err, "has 2 blocks")) << layers.result.err;

  // Domain shards made with another tokenizer do not fit the checkpoint's vocabulary.
  const std::string lic = "/usr/share/common-licenses/";
  auto tok = e2e::run_ptft({"tokenizer", "train", "--input", lic + "GPL-2", "--vocab-size", "400", "--type",
                            "unigram", "--out", tmp.path("tok2"), "--threads", "1"});
  ASSERT_EQ(tok.exit_code, 0) << tok.text();
  auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", tmp.path("tok2"), "--input", lic + "GPL-2",
                             "--out", tmp.path("other"), "--quiet", "--threads", "1"});
  ASSERT_EQ(prep.exit_code, 0) << prep.text();
  auto other = finetune(tmp, "other", {"data.train=" + tmp.path("other"), "data.val=\"\""});
  EXPECT_EQ(other.result.exit_code, 1) << other.result.text();
  EXPECT_TRUE(contains(other.result.err, tmp.path("other"))) << other.result.err;
  EXPECT_TRUE(contains(other.result.err, "tokenizer")) << other.result.err;
}

}  // namespace
