// The real-model path end to end, on random-weight Qwen3- and Llama-3-architecture models that
// carry the real Qwen3 / Llama-3 tokenizer.json and chat template (scripts/fetch-hf-tokenizers.sh):
// what a user does with a downloaded Qwen / SmolLM2 / Llama directory. `ptft tokenizer encode` and `data prepare`
// read the directory's tokenizer.json; `finetune --task sft` with LoRA renders the conversations
// with its Jinja template, trains the answers only and stores the template; `chat` speaks it;
// `export --format hf` writes tokenizer.json and the template back.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "../common/hf_tokenizers.h"
#include "gpt_fixture.h"
#include "tiny_checkpoint.h"

namespace {
using e2e::contains;
namespace sfs = std::filesystem;

struct RealModel {
  std::string tokenizer;      // data/hf-tokenizers/<name>
  std::string model_yaml;     // the architecture, with the tokenizer's vocabulary
  std::string architecture;   // what export writes
  std::vector<std::string> hello_ids;  // "Hello world"
  std::string end_of_turn;    // the template's
};

class LlamaChatE2E : public ::testing::TestWithParam<RealModel> {};

// The first token of a shard directory's train split (after the 32-byte header; uint16 or
// uint32 tokens, as meta.json says).
uint32_t first_token(const std::string& shard_dir) {
  const std::string shard = e2e::read_text(shard_dir + "/train-00000.bin");
  const std::size_t bytes = e2e::read_json(shard_dir + "/meta.json")["dtype"] == "uint16" ? 2 : 4;
  uint32_t first = 0;  // little-endian
  if (shard.size() >= 32 + bytes) std::memcpy(&first, shard.data() + 32, bytes);
  return first;
}

// Llama-2's tokenizer.json post-processor (TemplateProcessing) starts every text with <s> (id 1):
// data prepare starts each document with it, as transformers' tokenizer(text) does. (The
// Llama-3 and Qwen3 files' post-processors add nothing.)
TEST(LlamaDataE2E, DocumentsStartWithTheBosThePostProcessorAdds) {
  PTFT_REQUIRE_HF_TOKENIZERS();
  e2e::TempDir tmp;
  for (const char* name : {"llama2", "llama3"}) {
    const std::string out = tmp.path(std::string("shards-") + name);
    auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", ptft::test::hf_tokenizer_dir(name), "--input",
                               "/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0", "--out", out,
                               "--val-fraction", "0", "--quiet", "--threads", "1"});
    ASSERT_EQ(prep.exit_code, 0) << prep.text();
    ASSERT_EQ(e2e::read_json(out + "/meta.json")["documents"]["train"], 2);
    if (std::string(name) == "llama2") EXPECT_EQ(first_token(out), 1u);
    else EXPECT_NE(first_token(out), 128000u);
  }
}

TEST_P(LlamaChatE2E, HfDirectoryWithRealTokenizerThroughSftChatAndExport) {
  PTFT_REQUIRE_HF_TOKENIZERS();
  const RealModel& m = GetParam();
  e2e::TempDir tmp;
  // A small model with the real vocabulary, random weights, as a Hugging Face directory.
  std::string hf;
  ASSERT_NO_FATAL_FAILURE(e2e::make_hf_model(tmp, m.model_yaml, ptft::test::hf_tokenizer_dir(m.tokenizer),
                                             {"tokenizer.json", "tokenizer_config.json"}, &hf));

  auto enc = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", hf, "Hello world"});
  ASSERT_EQ(enc.exit_code, 0) << enc.text();
  for (const auto& id : m.hello_ids) EXPECT_TRUE(contains(enc.out, id)) << enc.out;
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
  EXPECT_TRUE(contains(cfg["ptft"]["chat_template"]["jinja"].get<std::string>(), m.end_of_turn));
  EXPECT_EQ(cfg["ptft"]["chat_template"]["assistant_end"], m.end_of_turn);
  EXPECT_TRUE(sfs::exists(tmp.path("sft") + "/checkpoints/last/tokenizer/tokenizer.json"));

  e2e::write_text(tmp.path("question.txt"), "What is clause 3?\n");
  auto chat = e2e::run_ptft_with_stdin({"chat", "--model", tmp.path("sft"), "--max-new-tokens", "4", "--seed", "1",
                                        "--threads", "1"},
                                       tmp.path("question.txt"), tmp);
  EXPECT_EQ(chat.exit_code, 0) << chat.text();
  // generate --chat renders the message with the same (Jinja) template: the same greedy answer.
  const std::vector<std::string> greedy = {"--model", tmp.path("sft"), "--max-new-tokens", "4", "--temperature", "0",
                                           "--threads", "1"};
  auto chat0 = e2e::run_ptft_with_stdin(e2e::concat({"chat"}, greedy), tmp.path("question.txt"), tmp);
  ASSERT_EQ(chat0.exit_code, 0) << chat0.text();
  auto gen = e2e::run_ptft(e2e::concat({"generate", "--chat", "--prompt", "What is clause 3?"}, greedy));
  ASSERT_EQ(gen.exit_code, 0) << gen.text();
  EXPECT_EQ(gen.out + "\n", chat0.out);

  auto out = e2e::run_ptft({"export", "--model", tmp.path("sft"), "--format", "hf", "--merge-lora", "--out", tmp.path("out")});
  ASSERT_EQ(out.exit_code, 0) << out.text();
  EXPECT_TRUE(sfs::exists(tmp.path("out") + "/tokenizer.json"));
  const auto tc = e2e::read_json(tmp.path("out") + "/tokenizer_config.json");
  EXPECT_TRUE(tc.contains("chat_template"));
  EXPECT_EQ(e2e::read_json(tmp.path("out") + "/config.json")["architectures"][0], m.architecture);
}

INSTANTIATE_TEST_SUITE_P(
    RealTokenizers, LlamaChatE2E,
    ::testing::Values(
        RealModel{"qwen3",
                  "model: {family: llama, model_type: qwen3, qk_norm: true, vocab_size: 151936, hidden_size: 32,\n"
                  "        intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,\n"
                  "        head_dim: 8, max_position_embeddings: 128, tie_word_embeddings: true}\n",
                  "Qwen3ForCausalLM", {"9707", "1879"}, "<|im_end|>"},
        RealModel{"llama3",
                  "model: {family: llama, model_type: llama, vocab_size: 128256, hidden_size: 32, intermediate_size: 64,\n"
                  "        num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,\n"
                  "        max_position_embeddings: 128, rope_theta: 500000.0, rope_type: llama3, rope_factor: 8.0,\n"
                  "        rope_original_max_position_embeddings: 64}\n",
                  "LlamaForCausalLM", {"9906", "1917"}, "<|eot_id|>"}),
    [](const ::testing::TestParamInfo<RealModel>& info) { return info.param.tokenizer; });

}  // namespace
