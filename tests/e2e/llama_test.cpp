// The llama family end to end with the real binary, on the licence texts and tokenizer of
// gpt_fixture.h: pre-train a tiny Llama (GQA, tied head), fine-tune it with each strategy
// (LoRA on q_proj ... down_proj with PEFT's files, freeze, head, gradual unfreezing with
// layer-wise LR decay, replay, strategy auto), data-parallel in 2 processes, generate, evaluate, export a Hugging Face directory (checked by
// tests/models/llama_hf_check.py), and fine-tune a Hugging Face Qwen2 directory written by the
// independent reference (tests/models/llama_reference.py; skipped without python3 + numpy).
#include <gtest/gtest.h>

#include <fstream>

#include "../common/python.h"
#include "gpt_fixture.h"

namespace {
using e2e::contains;
namespace sfs = std::filesystem;

const std::string kModel =
    "model: {family: llama, vocab_size: 400, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,\n"
    "        num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32, tie_word_embeddings: true}\n";

struct TinyLlama {
  e2e::TempDir dir{"tiny-llama"};
  std::string run = dir.path("pre");
  std::string ckpt = run + "/checkpoints/last";
  bool ok = false;
};

const TinyLlama& tiny_llama() {
  static std::unique_ptr<TinyLlama> l = [] {
    auto t = std::make_unique<TinyLlama>();
    const auto& g = e2e::tiny_gpt();
    if (!g.ok) return t;
    e2e::write_text(t->dir.path("pre.yaml"),
                    kModel + "data: {train: " + g.general + ", val: " + g.general + "}\n" +
                        "train: {steps: 40, batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: 40, eval_batches: 4,\n"
                        "        save_every: 40, weight_decay: 0.0, seed: 7}\n");
    auto pre = e2e::run_ptft({"pretrain", "--config", t->dir.path("pre.yaml"), "--out", t->run, "--threads", "1", "--quiet"});
    if (pre.exit_code != 0) {
      ADD_FAILURE() << "pre-training the tiny llama failed: " << pre.text();
      return t;
    }
    t->ok = true;
    return t;
  }();
  return *l;
}

e2e::Result finetune(const e2e::TempDir& tmp, const std::string& name, const std::string& from,
                     const std::vector<std::string>& sets) {
  const auto& g = e2e::tiny_gpt();
  e2e::write_text(tmp.path(name + ".yaml"), "data: {train: " + g.domain + ", val: " + g.domain + "}\n" +
                                                "train: {steps: 8, batch_size: 4, lr: 1.0e-3, warmup: 0, eval_every: 8,\n"
                                                "        eval_batches: 2, save_every: 8, weight_decay: 0.0}\n");
  std::vector<std::string> args = {"finetune", "--config", tmp.path(name + ".yaml"), "--from", from,
                                   "--out", tmp.path(name), "--threads", "1", "--quiet"};
  for (const auto& s : sets) args = e2e::concat(args, {"--set", s});
  return e2e::run_ptft(args);
}

TEST(LlamaE2E, PretrainFinetuneEachStrategyGenerateEvalExport) {
  const TinyLlama& l = tiny_llama();
  ASSERT_TRUE(l.ok);
  e2e::TempDir tmp;
  const auto pre = e2e::read_tensors(l.ckpt + "/model.safetensors");
  EXPECT_TRUE(pre.count("model.layers.1.self_attn.k_proj.weight"));
  EXPECT_FALSE(pre.count("lm_head.weight"));  // tied

  auto lora = finetune(tmp, "lora", l.ckpt, {"finetune.strategy=lora", "finetune.lora={r: 4, alpha: 8}"});
  ASSERT_EQ(lora.exit_code, 0) << lora.text();
  const std::string last = tmp.path("lora") + "/checkpoints/last";
  auto ac = e2e::read_json(last + "/adapter_config.json");
  EXPECT_EQ(ac["task_type"], "CAUSAL_LM");
  EXPECT_EQ(ac["fan_in_fan_out"], false);
  EXPECT_EQ(ac["target_modules"], nlohmann::json({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                  "down_proj"}));
  auto adapter = e2e::read_tensors(last + "/adapter_model.safetensors");
  EXPECT_EQ(adapter.size(), 2u * 7 * 2);  // 2 blocks x 7 projections x (A, B)
  EXPECT_TRUE(adapter.count("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"));
  for (const auto& [name, bytes] : pre) EXPECT_EQ(e2e::read_tensors(last + "/model.safetensors").at(name), bytes) << name;

  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{"finetune.strategy=freeze", "finetune.freeze_layers=1"},
        std::vector<std::string>{"finetune.strategy=head"},
        std::vector<std::string>{"finetune.unfreeze_every=3", "finetune.layer_lr_decay=0.8"},
        std::vector<std::string>{"finetune.replay.data=" + e2e::tiny_gpt().general, "finetune.replay.fraction=0.25"}}) {
    auto r = finetune(tmp, "s" + std::to_string(sets.size()) + sets[0].substr(9, 6), l.ckpt, sets);
    EXPECT_EQ(r.exit_code, 0) << sets[0] << ": " << r.text();
  }

  auto gen = e2e::run_ptft({"generate", "--model", tmp.path("lora"), "--prompt", "This License", "--max-new-tokens",
                            "8", "--seed", "3", "--threads", "1"});
  ASSERT_EQ(gen.exit_code, 0) << gen.text();
  EXPECT_FALSE(gen.out.empty()) << gen.text();
  auto ev = e2e::run_ptft({"eval", "--model", tmp.path("lora"), "--data", e2e::tiny_gpt().domain_text, "--threads", "1"});
  ASSERT_EQ(ev.exit_code, 0) << ev.text();
  EXPECT_TRUE(contains(ev.out, "perplexity")) << ev.out;

  auto hf = e2e::run_ptft({"export", "--model", tmp.path("lora"), "--format", "hf", "--merge-lora", "--out", tmp.path("hf")});
  ASSERT_EQ(hf.exit_code, 0) << hf.text();
  auto cfg = e2e::read_json(tmp.path("hf") + "/config.json");
  EXPECT_EQ(cfg["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(cfg["num_key_value_heads"], 2);
  EXPECT_EQ(cfg["tie_word_embeddings"], true);
  if (!ptft::test::python_with_numpy().empty()) {
    int status = 0;
    const std::string check = ptft::test::run_command(ptft::test::python_with_numpy() + " " PTFT_SOURCE_DIR
                                                      "/tests/models/llama_hf_check.py " + tmp.path("hf"), &status);
    EXPECT_EQ(status, 0) << check;
  }
  // The export reads back as the same model: the same loss on the domain's token shards.
  auto on_shards = [&](const std::string& model) {
    auto r = e2e::run_ptft({"eval", "--model", model, "--data", e2e::tiny_gpt().domain, "--json", "--threads", "1"});
    EXPECT_EQ(r.exit_code, 0) << r.text();
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["loss"].get<double>() : -1.0;
  };
  const double before = on_shards(tmp.path("lora"));
  EXPECT_NEAR(on_shards(tmp.path("hf")), before, 1e-6 * before);
}

// An SFT run exported for Hugging Face: ptft reads the SentencePiece tokenizer from the
// directory's ptft_tokenizer/, the chat template from the tokenizer_config.json written beside
// the tokenizer.json; the directory chats as the run does (the same greedy answer).
TEST(LlamaE2E, SftRunExportedForHuggingFaceStillChats) {
  const TinyLlama& l = tiny_llama();
  ASSERT_TRUE(l.ok);
  e2e::TempDir tmp;
  {
    std::ofstream rows(tmp.path("rows.jsonl"));
    for (int i = 0; i < 16; ++i)
      rows << nlohmann::json({{"prompt", "Clause " + std::to_string(i)}, {"response", "the licence"}}).dump() << "\n";
  }
  auto sft = finetune(tmp, "sft", l.ckpt,
                      {"task=sft", "data.train=" + tmp.path("rows.jsonl"), "data.val=" + tmp.path("rows.jsonl")});
  ASSERT_EQ(sft.exit_code, 0) << sft.text();
  auto hf = e2e::run_ptft({"export", "--model", tmp.path("sft"), "--format", "hf", "--out", tmp.path("hf")});
  ASSERT_EQ(hf.exit_code, 0) << hf.text();
  ASSERT_TRUE(sfs::is_directory(tmp.path("hf") + "/ptft_tokenizer"));
  ASSERT_TRUE(e2e::read_json(tmp.path("hf") + "/tokenizer_config.json").contains("chat_template"));
  std::string answers[2];
  for (int i = 0; i < 2; ++i) {
    auto chat = e2e::run_ptft({"generate", "--model", i == 0 ? tmp.path("sft") : tmp.path("hf"), "--chat", "--prompt",
                               "Clause 3", "--max-new-tokens", "6", "--temperature", "0", "--threads", "1"});
    ASSERT_EQ(chat.exit_code, 0) << chat.text();
    answers[i] = chat.out;
  }
  EXPECT_EQ(answers[1], answers[0]);
}

TEST(LlamaE2E, StrategyAutoAndTwoProcesses) {
  const TinyLlama& l = tiny_llama();
  ASSERT_TRUE(l.ok);
  e2e::TempDir tmp;
  auto search = finetune(tmp, "auto", l.ckpt, {"finetune.strategy=auto", "finetune.auto.trial_steps=3"});
  ASSERT_EQ(search.exit_code, 0) << search.text();
  const auto s = e2e::read_json(tmp.path("auto") + "/strategy_search.json");
  ASSERT_EQ(s["candidates"].size(), 4u) << s.dump(2);  // head, freeze, lora, full
  for (const auto& c : s["candidates"]) EXPECT_TRUE(c["value"].is_number()) << c.dump();
  // The same fine-tune data-parallel in 2 processes (Gloo): rank 0 writes the run.
  e2e::write_text(tmp.path("dp.yaml"), "data: {train: " + e2e::tiny_gpt().domain + ", val: " + e2e::tiny_gpt().domain + "}\n" +
                                           "train: {steps: 4, batch_size: 4, warmup: 0, eval_every: 0, save_every: 4,\n"
                                           "        dist_timeout: 60}\n");
  auto dp = e2e::run_ptft({"launch", "--nproc", "2", "--", "finetune", "--config", tmp.path("dp.yaml"), "--from", l.ckpt,
                           "--out", tmp.path("dp"), "--threads", "1", "--quiet"},
                          {}, std::chrono::seconds(300));
  ASSERT_EQ(dp.exit_code, 0) << dp.text();
  EXPECT_EQ(e2e::read_json(tmp.path("dp") + "/summary.json")["world_size"], 2);
}

TEST(LlamaE2E, FinetunesAHuggingFaceQwen2Directory) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  if (ptft::test::python_with_numpy().empty()) GTEST_SKIP() << "no python3 with numpy for the reference";
  e2e::TempDir tmp;
  const std::string hf = tmp.path("qwen2");
  int status = 0;
  const std::string made = ptft::test::run_command(ptft::test::python_with_numpy() + " " PTFT_SOURCE_DIR
                                                   "/tests/models/llama_reference.py make " + hf +
                                                   " --variant qwen2 --dtype bf16 --seed 5", &status);
  ASSERT_EQ(status, 0) << made;
  // The reference's qwen2 variant has 400 tokens: the fixture's tokenizer fits.
  auto r = finetune(tmp, "ft", hf, {"finetune.strategy=lora"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto ac = e2e::read_json(tmp.path("ft") + "/checkpoints/last/adapter_config.json");
  EXPECT_EQ(ac["target_modules"].size(), 7u);
  auto cfg = e2e::read_json(tmp.path("ft") + "/checkpoints/last/config.json");
  EXPECT_EQ(cfg["model_type"], "qwen2");
  EXPECT_EQ(cfg["ptft"]["finetuned_from"], hf) << cfg.dump();
}

}  // namespace
