// e2e: `ptft export --format gguf` read by llama.cpp itself (node-llama-cpp's prebuilt build,
// tests/common/llama_cpp.h): the same token ids for a varied corpus, the same greedy continuation
// as `ptft generate` (f32 weights), for GPT-2 and the llama family with every tokenizer kind ptft
// writes (ptft's SentencePiece, GPT-2 BPE, real Llama-3 / Qwen3 / Llama-2 tokenizer.json files);
// and the file read back by ptft as the model that was exported.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../common/fetch.h"
#include "../common/gguf_reference.h"
#include "../common/hf_tokenizers.h"
#include "../common/llama_cpp.h"
#include "run_ptft.h"
#include "tiny_checkpoint.h"

namespace {

using e2e::contains;
namespace sfs = std::filesystem;

const std::vector<std::string> kCorpus = {
    "This License applies to any program or other work.",
    "  indented   text with   runs of spaces\tand a tab",
    "Numbers: 3.14159, 2026-12-06, 1000000 and 42%.",
    "line one\nline two\n\nafter a blank line",
    "Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 \xE2\x80\x94 \xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80",
    "def f(x):\n    return x * 2  # code",
};

std::vector<int64_t> ptft_ids(const std::string& tokenizer, const std::string& text) {
  auto r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tokenizer, "--json", "--", text});
  EXPECT_EQ(r.exit_code, 0) << r.text();
  if (r.exit_code != 0) return {};
  return nlohmann::json::parse(r.out)["ids"].get<std::vector<int64_t>>();
}

// llama.cpp tokenizes every corpus text as ptft does.
void expect_same_tokens(const std::string& gguf, const std::string& tokenizer) {
  const nlohmann::json answer = ptft::test::run_llama_cpp(gguf, {{"tokenize", kCorpus}});
  ASSERT_FALSE(answer.is_null());
  for (size_t i = 0; i < kCorpus.size(); ++i)
    EXPECT_EQ(answer["tokenize"][i].get<std::vector<int64_t>>(), ptft_ids(tokenizer, kCorpus[i])) << kCorpus[i];
}

// llama.cpp continues the prompt greedily as `ptft generate` does (float32 decode weights, as the
// f32 file: `--dtype auto` would round them to bf16 on an avx512_bf16 CPU).
void expect_same_greedy(const std::string& gguf, const std::string& model, const std::string& tokenizer,
                        const std::string& prompt, int n) {
  auto gen = e2e::run_ptft({"generate", "--model", model, "--prompt", prompt, "--temperature", "0", "--max-new-tokens",
                            std::to_string(n), "--json", "--threads", "1", "--dtype", "f32"});
  ASSERT_EQ(gen.exit_code, 0) << gen.text();
  const auto ours = nlohmann::json::parse(gen.out)["ids"].get<std::vector<int64_t>>();
  const nlohmann::json answer =
      ptft::test::run_llama_cpp(gguf, {{"greedy", {{"ids", ptft_ids(tokenizer, prompt)}, {"new", ours.size()}}}});
  ASSERT_FALSE(answer.is_null());
  EXPECT_EQ(answer["greedy"].get<std::vector<int64_t>>(), ours) << "prompt: " << prompt;
}

// The file as Hugging Face's GGUF parser (@huggingface/gguf) reads it follows docs/formats.md's
// rules: the keys llama.cpp requires, with their types; as many tokens as embedding rows; 1-D
// tensors in F32.
void expect_gguf_rules(const std::string& gguf) {
  PTFT_REQUIRE_GGUF_REFERENCE();
  const nlohmann::json h = ptft::test::gguf_reference_read(gguf);
  ASSERT_TRUE(h.is_object()) << gguf;
  std::map<std::string, nlohmann::json> kv;
  for (const auto& m : h["metadata"]) kv[m["key"].get<std::string>()] = m;
  auto type_of = [&](const std::string& key) { return kv.count(key) ? kv[key]["type"].get<int>() : -1; };
  ASSERT_TRUE(kv.count("general.architecture"));
  const std::string arch = kv["general.architecture"]["value"];
  const int u32 = 4, f32 = 6;  // GGUF value types
  std::vector<std::string> u32_keys = {"general.file_type", arch + ".context_length", arch + ".embedding_length",
                                       arch + ".block_count", arch + ".feed_forward_length", arch + ".attention.head_count"};
  std::vector<std::string> f32_keys = {arch + (arch == "gpt2" ? ".attention.layer_norm_epsilon" : ".attention.layer_norm_rms_epsilon")};
  if (arch != "gpt2") {
    u32_keys.push_back(arch + ".attention.head_count_kv");
    u32_keys.push_back(arch + ".rope.dimension_count");
    f32_keys.push_back(arch + ".rope.freq_base");
  }
  for (const auto& k : u32_keys) EXPECT_EQ(type_of(k), u32) << k;
  for (const auto& k : f32_keys) EXPECT_EQ(type_of(k), f32) << k;
  ASSERT_TRUE(kv.count("tokenizer.ggml.tokens"));
  const std::string model = kv["tokenizer.ggml.model"]["value"];
  EXPECT_TRUE(kv.count(model == "gpt2" ? "tokenizer.ggml.merges" : "tokenizer.ggml.scores")) << model;
  for (const auto& t : h["tensors"]) {
    if (t["name"] == "token_embd.weight") {
      EXPECT_EQ(std::to_string(kv["tokenizer.ggml.tokens"]["value"].size()), t["shape"][1].get<std::string>());
    }
    if (t["n_dims"] == 1) {
      EXPECT_EQ(t["dtype"], 0) << t.dump();  // F32
    }
  }
}

// `ptft generate` on the GGUF file (its tokenizer rebuilt from tokenizer.ggml.*) gives what it
// gives on the model the file was exported from: the same prompt tokens, ids and text (float32
// decode weights on both sides: f16 files, rounded again to bf16, would differ in the last bits).
void expect_same_generation_from_gguf(const std::string& gguf, const std::string& model, const std::string& prompt) {
  auto run = [&](const std::string& m) {
    auto r = e2e::run_ptft({"generate", "--model", m, "--prompt", prompt, "--temperature", "0", "--max-new-tokens", "8",
                            "--json", "--threads", "1", "--dtype", "f32"});
    EXPECT_EQ(r.exit_code, 0) << r.text();
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  };
  const nlohmann::json a = run(model), b = run(gguf);
  for (const char* k : {"prompt_tokens", "ids", "text"}) EXPECT_EQ(a[k], b[k]) << k << " for prompt: " << prompt;
}

TEST(GgufE2E, GptWithSentencePieceRunsInLlamaCppAndReadsBack) {
  PTFT_REQUIRE_LLAMA_CPP();
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  const std::string gguf = tmp.path("gpt.gguf");
  auto exp = e2e::run_ptft({"export", "--model", ckpt, "--format", "gguf", "--dtype", "f32", "--out", gguf});
  ASSERT_EQ(exp.exit_code, 0) << exp.text();
  expect_gguf_rules(gguf);
  expect_same_tokens(gguf, ckpt + "/tokenizer");
  expect_same_greedy(gguf, ckpt, ckpt + "/tokenizer", "This License", 12);
  for (const auto& text : kCorpus) expect_same_generation_from_gguf(gguf, ckpt, text);

  // Read back: the same weights as the checkpoint (both exported as a Hugging Face directory).
  auto a = e2e::run_ptft({"export", "--model", ckpt, "--format", "hf", "--out", tmp.path("hf-a")});
  auto b = e2e::run_ptft({"export", "--model", gguf, "--format", "hf", "--out", tmp.path("hf-b")});
  ASSERT_EQ(a.exit_code, 0) << a.text();
  ASSERT_EQ(b.exit_code, 0) << b.text();
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(tmp.path("hf-a/model.safetensors")),
                                e2e::read_tensors(tmp.path("hf-b/model.safetensors"))));

  // Bad requests: an existing file, --dtype elsewhere, a bad dtype.
  auto again = e2e::run_ptft({"export", "--model", ckpt, "--format", "gguf", "--out", gguf});
  EXPECT_EQ(again.exit_code, 1) << again.text();
  EXPECT_TRUE(contains(again.err, "exists")) << again.err;
  auto dtype_hf = e2e::run_ptft({"export", "--model", ckpt, "--format", "hf", "--dtype", "f16", "--out", tmp.path("x")});
  EXPECT_EQ(dtype_hf.exit_code, 1) << dtype_hf.text();
  EXPECT_TRUE(contains(dtype_hf.err, "--dtype is for --format gguf")) << dtype_hf.err;
  auto q = e2e::run_ptft({"export", "--model", ckpt, "--format", "gguf", "--dtype", "q4_0", "--out", tmp.path("q.gguf")});
  EXPECT_EQ(q.exit_code, 1) << q.text();
  EXPECT_TRUE(contains(q.err, "f32, f16 or bf16")) << q.err;
  auto mlp = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("mlp"), {"train.steps=2"}));
  ASSERT_EQ(mlp.exit_code, 0) << mlp.text();
  auto no_form = e2e::run_ptft({"export", "--model", tmp.path("mlp"), "--format", "gguf", "--out", tmp.path("mlp.gguf")});
  EXPECT_EQ(no_form.exit_code, 1) << no_form.text();
  EXPECT_TRUE(contains(no_form.err, "'mlp' model has no GGUF form")) << no_form.err;
  EXPECT_FALSE(sfs::exists(tmp.path("mlp.gguf")));
}

TEST(GgufE2E, LlamaFamilyRunsInLlamaCppWithTheSameGreedyText) {
  PTFT_REQUIRE_LLAMA_CPP();
  e2e::TempDir tmp;
  std::string gpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &gpt));  // for its tokenizer and shards
  // GQA + linear rope (llama: q/k rows permuted for llama.cpp's rope), Qwen2 biases, Qwen3 q/k
  // norm, llama3 rope scaling (rope_freqs).
  const std::vector<std::pair<std::string, std::string>> models = {
      {"llama", "model_type: llama, num_key_value_heads: 1, rope_type: linear, rope_factor: 2.0"},
      {"qwen2", "model_type: qwen2, qkv_bias: true, num_key_value_heads: 1"},
      {"qwen3", "model_type: qwen3, qk_norm: true, head_dim: 16, tie_word_embeddings: true"},
      {"llama3", "model_type: llama, rope_type: llama3, rope_factor: 8.0, rope_original_max_position_embeddings: 16"},
  };
  for (const auto& [name, keys] : models) {
    SCOPED_TRACE(name);
    e2e::write_text(tmp.path(name + ".yaml"),
                    "model: {family: llama, vocab_size: 400, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,\n"
                    "        num_attention_heads: 2, max_position_embeddings: 64, " + keys + "}\n"
                    "data: {train: " + tmp.path("shards") + ", val: " + tmp.path("shards") + "}\n"
                    "train: {steps: 30, batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: 0, save_every: 30}\n");
    auto run = e2e::run_ptft({"pretrain", "--config", tmp.path(name + ".yaml"), "--out", tmp.path(name), "--threads", "1", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.text();
    const std::string ckpt = tmp.path(name + "/checkpoints/last"), gguf = tmp.path(name + ".gguf");
    auto exp = e2e::run_ptft({"export", "--model", ckpt, "--format", "gguf", "--dtype", "f32", "--out", gguf});
    ASSERT_EQ(exp.exit_code, 0) << exp.text();
    expect_gguf_rules(gguf);
    expect_same_greedy(gguf, ckpt, ckpt + "/tokenizer", "This License", 12);
    auto back = e2e::run_ptft({"export", "--model", gguf, "--format", "hf", "--out", tmp.path(name + "-back")});
    auto direct = e2e::run_ptft({"export", "--model", ckpt, "--format", "hf", "--out", tmp.path(name + "-hf")});
    ASSERT_EQ(back.exit_code, 0) << back.text();
    ASSERT_EQ(direct.exit_code, 0) << direct.text();
    EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(tmp.path(name + "-back/model.safetensors")),
                                  e2e::read_tensors(tmp.path(name + "-hf/model.safetensors"))));
  }
}

TEST(GgufE2E, LoraRunAsAdapterFileOrMerged) {
  PTFT_REQUIRE_LLAMA_CPP();
  e2e::TempDir tmp;
  std::string gpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &gpt));
  e2e::write_text(tmp.path("base.yaml"),
                  "model: {family: llama, vocab_size: 400, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,\n"
                  "        num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 64}\n"
                  "data: {train: " + tmp.path("shards") + "}\n"
                  "train: {steps: 60, batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: 0, save_every: 60}\n");
  auto base = e2e::run_ptft({"pretrain", "--config", tmp.path("base.yaml"), "--out", tmp.path("base"), "--threads", "1", "--quiet"});
  ASSERT_EQ(base.exit_code, 0) << base.text();
  e2e::write_text(tmp.path("ft.yaml"), "data: {train: " + tmp.path("shards") + "}\n"
                                       "finetune: {strategy: lora, lora: {r: 4, alpha: 8}}\n"
                                       "train: {steps: 20, batch_size: 8, lr: 1.0e-2, warmup: 0, eval_every: 0, save_every: 20}\n");
  auto ft = e2e::run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", tmp.path("base"), "--out", tmp.path("ft"),
                           "--threads", "1", "--quiet"});
  ASSERT_EQ(ft.exit_code, 0) << ft.text();
  const std::string ckpt = tmp.path("ft/checkpoints/last"), tok = ckpt + "/tokenizer";
  auto b = e2e::run_ptft({"export", "--model", tmp.path("base"), "--format", "gguf", "--dtype", "f32", "--out", tmp.path("base.gguf")});
  ASSERT_EQ(b.exit_code, 0) << b.text();
  auto a = e2e::run_ptft({"export", "--model", ckpt, "--format", "gguf", "--dtype", "f32", "--out", tmp.path("adapter.gguf")});
  ASSERT_EQ(a.exit_code, 0) << a.text();
  EXPECT_TRUE(contains(a.err, "LoRA adapters alone")) << a.err;
  auto m = e2e::run_ptft({"export", "--model", ckpt, "--format", "gguf", "--dtype", "f32", "--merge-lora", "--out", tmp.path("merged.gguf")});
  ASSERT_EQ(m.exit_code, 0) << m.text();

  auto gen = e2e::run_ptft({"generate", "--model", ckpt, "--prompt", "This License", "--temperature", "0", "--max-new-tokens",
                            "12", "--json", "--threads", "1", "--dtype", "f32"});
  ASSERT_EQ(gen.exit_code, 0) << gen.text();
  const auto ours = nlohmann::json::parse(gen.out)["ids"].get<std::vector<int64_t>>();
  const auto prompt = ptft_ids(tok, "This License");
  const nlohmann::json with_adapter = ptft::test::run_llama_cpp(
      tmp.path("base.gguf"), {{"greedy", {{"ids", prompt}, {"new", ours.size()}}}, {"lora", tmp.path("adapter.gguf")}});
  const nlohmann::json merged = ptft::test::run_llama_cpp(tmp.path("merged.gguf"), {{"greedy", {{"ids", prompt}, {"new", ours.size()}}}});
  ASSERT_FALSE(with_adapter.is_null() || merged.is_null());
  EXPECT_EQ(with_adapter["greedy"].get<std::vector<int64_t>>(), ours);
  EXPECT_EQ(merged["greedy"].get<std::vector<int64_t>>(), ours);
  // ptft reads the adapter file back onto the base: the LoRA run's greedy text again.
  auto back = e2e::run_ptft({"generate", "--model", tmp.path("base"), "--lora", tmp.path("adapter.gguf"), "--prompt",
                             "This License", "--temperature", "0", "--max-new-tokens", "12", "--json", "--threads", "1",
                             "--dtype", "f32"});
  ASSERT_EQ(back.exit_code, 0) << back.text();
  EXPECT_EQ(nlohmann::json::parse(back.out)["ids"].get<std::vector<int64_t>>(), ours);
  auto not_adapter = e2e::run_ptft({"generate", "--model", tmp.path("base"), "--lora", tmp.path("base.gguf"), "--prompt", "x"});
  EXPECT_EQ(not_adapter.exit_code, 1) << not_adapter.text();
  EXPECT_TRUE(contains(not_adapter.err, "not a LoRA adapter")) << not_adapter.err;
  // The adapter is applied at all: the next-token distribution moves away from the base model's
  // (and matches the merged model's).
  const nlohmann::json probs = {{"ids", prompt}, {"top", 5}};
  const nlohmann::json p_plain = ptft::test::run_llama_cpp(tmp.path("base.gguf"), {{"probabilities", probs}});
  const nlohmann::json p_adapter = ptft::test::run_llama_cpp(tmp.path("base.gguf"), {{"probabilities", probs}, {"lora", tmp.path("adapter.gguf")}});
  const nlohmann::json p_merged = ptft::test::run_llama_cpp(tmp.path("merged.gguf"), {{"probabilities", probs}});
  ASSERT_FALSE(p_plain.is_null() || p_adapter.is_null() || p_merged.is_null());
  const double top_adapter = p_adapter["probabilities"][0][1], top_merged = p_merged["probabilities"][0][1];
  EXPECT_EQ(p_adapter["probabilities"][0][0], p_merged["probabilities"][0][0]);
  EXPECT_NEAR(top_adapter, top_merged, 1e-3);
  const bool moved = p_adapter["probabilities"][0][0] != p_plain["probabilities"][0][0] ||
                     std::abs(top_adapter - p_plain["probabilities"][0][1].get<double>()) > 1e-3;
  EXPECT_TRUE(moved)
      << "the adapter changes nothing: " << p_plain.dump() << " vs " << p_adapter.dump();
}

struct RealTokenizer {
  std::string name;
  std::string model_yaml;
};

class GgufTokenizerE2E : public ::testing::TestWithParam<RealTokenizer> {};

TEST_P(GgufTokenizerE2E, LlamaCppTokenizesAsPtft) {
  PTFT_REQUIRE_HF_TOKENIZERS();
  PTFT_REQUIRE_LLAMA_CPP();
  const RealTokenizer& t = GetParam();
  e2e::TempDir tmp;
  std::string hf;
  ASSERT_NO_FATAL_FAILURE(e2e::make_hf_model(tmp, t.model_yaml, ptft::test::hf_tokenizer_dir(t.name),
                                             {"tokenizer.json", "tokenizer_config.json"}, &hf));
  const std::string gguf = tmp.path("m.gguf");
  auto g = e2e::run_ptft({"export", "--model", hf, "--format", "gguf", "--out", gguf});
  ASSERT_EQ(g.exit_code, 0) << g.text();
  expect_gguf_rules(gguf);
  expect_same_tokens(gguf, hf);
  // Two texts (each run loads the whole vocabulary twice): prose with digits, and the accents/CJK/emoji one.
  for (const size_t i : {size_t{2}, size_t{4}}) expect_same_generation_from_gguf(gguf, hf, kCorpus[i]);
}

INSTANTIATE_TEST_SUITE_P(
    RealTokenizers, GgufTokenizerE2E,
    ::testing::Values(
        RealTokenizer{"llama3",
                      "model: {family: llama, model_type: llama, vocab_size: 128256, hidden_size: 16, intermediate_size: 32,\n"
                      "        num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 64, tie_word_embeddings: true}\n"},
        RealTokenizer{"qwen3",
                      "model: {family: llama, model_type: qwen3, qk_norm: true, vocab_size: 151936, hidden_size: 16,\n"
                      "        intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, head_dim: 8,\n"
                      "        max_position_embeddings: 64, tie_word_embeddings: true}\n"},
        RealTokenizer{"llama2",
                      "model: {family: llama, model_type: llama, vocab_size: 32000, hidden_size: 16, intermediate_size: 32,\n"
                      "        num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 64}\n"}),
    [](const ::testing::TestParamInfo<RealTokenizer>& i) { return i.param.name; });

}  // namespace
