// The real-model path end to end, on a random-weight Qwen3-architecture model that carries the
// real Qwen3 tokenizer.json and chat template (scripts/fetch-hf-tokenizers.sh): what a user does
// with a downloaded Qwen / SmolLM2 / Llama directory. `ptft tokenizer encode` and `data prepare`
// read the directory's tokenizer.json; `finetune --task sft` with LoRA renders the conversations
// with its Jinja template, trains the answers only and stores the template; `chat` speaks it;
// `export --format hf` writes tokenizer.json and the template back.
#include <gtest/gtest.h>

#include <fstream>

#include "../common/hf_tokenizers.h"
#include "gpt_fixture.h"

namespace {
using e2e::contains;
namespace sfs = std::filesystem;

TEST(LlamaChatE2E, HfDirectoryWithRealTokenizerThroughSftChatAndExport) {
  PTFT_REQUIRE_HF_TOKENIZERS();
  e2e::TempDir tmp;
  // A Qwen3-shaped model with Qwen3's vocabulary, random weights, as a Hugging Face directory.
  e2e::write_text(tmp.path("base.yaml"),
                  "model: {family: llama, model_type: qwen3, qk_norm: true, vocab_size: 151936, hidden_size: 32,\n"
                  "        intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,\n"
                  "        head_dim: 8, max_position_embeddings: 128, tie_word_embeddings: true}\n"
                  "data: {train: \"synthetic:tokens\"}\n"
                  "train: {steps: 1, batch_size: 2, eval_every: 0, save_every: 1}\n");
  auto base = e2e::run_ptft({"pretrain", "--config", tmp.path("base.yaml"), "--out", tmp.path("base"), "--threads", "1", "--quiet"});
  ASSERT_EQ(base.exit_code, 0) << base.text();
  const std::string hf = tmp.path("qwen3");
  auto exported = e2e::run_ptft({"export", "--model", tmp.path("base"), "--format", "hf", "--out", hf});
  ASSERT_EQ(exported.exit_code, 0) << exported.text();
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    sfs::copy_file(ptft::test::hf_tokenizer_dir("qwen3") + "/" + f, hf + "/" + f);

  auto enc = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", hf, "Hello world"});
  ASSERT_EQ(enc.exit_code, 0) << enc.text();
  EXPECT_TRUE(contains(enc.out, "9707")) << enc.out;  // Qwen's ids of "Hello", " world"
  EXPECT_TRUE(contains(enc.out, "1879")) << enc.out;
  auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", hf, "--input", "/usr/share/common-licenses/GPL-3",
                             "--out", tmp.path("shards"), "--quiet", "--threads", "1"});
  ASSERT_EQ(prep.exit_code, 0) << prep.text();
  EXPECT_EQ(e2e::read_json(tmp.path("shards") + "/meta.json")["tokenizer"]["kind"], "tokenizer-json");

  {
    std::ofstream rows(tmp.path("train.jsonl"));
    for (int i = 0; i < 24; ++i)
      rows << nlohmann::json({{"prompt", "What is clause " + std::to_string(i) + "?"},
                              {"response", "Clause " + std::to_string(i) + " covers licences."}})
                  .dump()
           << "\n";
  }
  e2e::write_text(tmp.path("sft.yaml"), "task: sft\ndata: {train: " + tmp.path("train.jsonl") + "}\n" +
                                            "finetune: {strategy: lora, lora: {r: 4, alpha: 8}}\n"
                                            "train: {steps: 6, batch_size: 4, lr: 1.0e-3, warmup: 0, eval_every: 0,\n"
                                            "        save_every: 6}\n");
  auto sft = e2e::run_ptft({"finetune", "--config", tmp.path("sft.yaml"), "--from", hf, "--out", tmp.path("sft"),
                            "--threads", "1", "--quiet"});
  ASSERT_EQ(sft.exit_code, 0) << sft.text();
  const auto cfg = e2e::read_json(tmp.path("sft") + "/checkpoints/last/config.json");
  ASSERT_TRUE(cfg["ptft"].contains("chat_template")) << cfg.dump(2);
  EXPECT_TRUE(contains(cfg["ptft"]["chat_template"]["jinja"].get<std::string>(), "<|im_start|>"));
  EXPECT_EQ(cfg["ptft"]["chat_template"]["eos_token"], "<|im_end|>");
  EXPECT_TRUE(sfs::exists(tmp.path("sft") + "/checkpoints/last/tokenizer/tokenizer.json"));

  e2e::write_text(tmp.path("question.txt"), "What is clause 3?\n");
  auto chat = e2e::run_ptft_with_stdin({"chat", "--model", tmp.path("sft"), "--max-new-tokens", "4", "--seed", "1",
                                        "--threads", "1"},
                                       tmp.path("question.txt"), tmp);
  EXPECT_EQ(chat.exit_code, 0) << chat.text();

  auto out = e2e::run_ptft({"export", "--model", tmp.path("sft"), "--format", "hf", "--merge-lora", "--out", tmp.path("out")});
  ASSERT_EQ(out.exit_code, 0) << out.text();
  EXPECT_TRUE(sfs::exists(tmp.path("out") + "/tokenizer.json"));
  const auto tc = e2e::read_json(tmp.path("out") + "/tokenizer_config.json");
  EXPECT_TRUE(tc.contains("chat_template"));
  EXPECT_EQ(e2e::read_json(tmp.path("out") + "/config.json")["architectures"][0], "Qwen3ForCausalLM");
}

}  // namespace
