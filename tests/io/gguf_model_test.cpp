// GGUF export and import at the API level (models/gguf_model.h): a model written and read back
// gives the same logits (f32: exactly; f16/bf16: within their rounding) for GPT-2 and every llama
// flavour; what is refused, by name. llama.cpp itself reads the files in tests/e2e/gguf_test.cpp.
#include <gtest/gtest.h>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/io/gguf.h"
#include "ptft/models/causal_lm.h"
#include "ptft/models/gguf_model.h"
#include "ptft/models/gpt.h"
#include "ptft/models/llama.h"
#include "ptft/models/model_files.h"
#include "ptft/models/mlp.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {

LlamaConfig small_llama(const std::string& type) {
  LlamaConfig c;
  c.model_type = type;
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 32;
  return c;
}

std::string tmp_path(const test::TempDir& t, const std::string& name) { return t.path + "/" + name; }

torch::Tensor logits_of(ModelImpl& m, const torch::Tensor& ids) {
  torch::NoGradGuard ng;
  m.eval();
  return dynamic_cast<CausalLm&>(m).forward_cached(ids, nullptr);
}

// Writes `m` as GGUF in `dtype`, reads it back, and returns the logits of both for the same ids.
std::pair<torch::Tensor, torch::Tensor> round_trip(ModelImpl& m, const std::string& dtype, const std::string& path) {
  export_gguf(m, nullptr, path, {dtype, "test", ""});
  Checkpoint c = read_checkpoint(path, false);
  ModelPtr back = model_from_checkpoint(c);
  const torch::Tensor ids = torch::randint(m.vocab_size(), {2, 12}, torch::kLong);
  return {logits_of(m, ids), logits_of(*back, ids)};
}

TEST(GgufModel, EveryLlamaFlavourAndGpt2ReadBackToTheSameLogits) {
  test::TempDir tmp("gguf-model");
  std::vector<std::pair<std::string, ModelPtr>> models;
  LlamaConfig llama = small_llama("llama");
  llama.rope_type = "linear";
  llama.rope_factor = 2;
  llama.qkv_bias = llama.o_bias = true;  // attention_bias
  models.push_back({"llama", std::make_shared<LlamaImpl>(llama)});
  LlamaConfig llama3 = small_llama("llama");
  llama3.rope_type = "llama3";
  llama3.rope_factor = 8;
  llama3.rope_original_max_position_embeddings = 16;
  llama3.tie_word_embeddings = true;
  models.push_back({"llama3", std::make_shared<LlamaImpl>(llama3)});
  LlamaConfig qwen2 = small_llama("qwen2");
  qwen2.qkv_bias = true;
  models.push_back({"qwen2", std::make_shared<LlamaImpl>(qwen2)});
  LlamaConfig qwen3 = small_llama("qwen3");
  qwen3.qk_norm = true;
  qwen3.head_dim = 16;
  models.push_back({"qwen3", std::make_shared<LlamaImpl>(qwen3)});
  GptConfig gpt;
  gpt.vocab_size = 50;
  gpt.n_positions = 32;
  gpt.n_embd = 32;
  gpt.n_layer = 2;
  gpt.n_head = 4;
  models.push_back({"gpt2", std::make_shared<GptImpl>(gpt)});
  torch::manual_seed(0);
  for (auto& [name, m] : models) {
    SCOPED_TRACE(name);
    // Biases and norms away from their init, so that a dropped or misplaced one shows.
    {
      torch::NoGradGuard ng;
      for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);
    }
    const auto [a, b] = round_trip(*m, "f32", tmp_path(tmp, name + ".gguf"));
    EXPECT_TRUE(torch::equal(a, b)) << (a - b).abs().max();
    const auto [c, d] = round_trip(*m, "f16", tmp_path(tmp, name + "-f16.gguf"));
    EXPECT_LT((c - d).abs().max().item<double>(), 1e-2);
    const auto [e, f] = round_trip(*m, "bf16", tmp_path(tmp, name + "-bf16.gguf"));
    EXPECT_LT((e - f).abs().max().item<double>(), 5e-2);
  }
}

// `src` rewritten with metadata key `key` set to `value` (tensors unchanged).
void rewrite_key(const std::string& src, const std::string& dst, const std::string& key, uint32_t value) {
  auto f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata()) w.set(k, k == key ? gguf::Value(value) : v);
  for (const auto& t : f->tensors()) w.add_tensor(t.name, t.type, t.shape, f->data(t), t.nbytes);
  w.write(dst);
}

TEST(GgufModel, KeysThatDisagreeWithTheTensorsAreAUserErrorNotACrash) {
  test::TempDir tmp("gguf-model");
  LlamaImpl llama(small_llama("llama"));  // 4 heads of 8, 2 kv heads
  export_gguf(llama, nullptr, tmp_path(tmp, "m.gguf"), {"f32", "", ""});
  for (const auto& [key, value] : std::vector<std::pair<std::string, uint32_t>>{
           {"llama.attention.head_count", 0}, {"llama.attention.head_count", 3}, {"llama.attention.head_count_kv", 3}}) {
    SCOPED_TRACE(key + " = " + std::to_string(value));
    const std::string bad = tmp_path(tmp, "bad-" + std::to_string(value) + key + ".gguf");
    rewrite_key(tmp_path(tmp, "m.gguf"), bad, key, value);
    const std::string err = test::user_error_of([&] { read_checkpoint(bad, false); });
    EXPECT_NE(err.find(bad), std::string::npos) << err;
    EXPECT_NE(err.find("export it again"), std::string::npos) << err;
  }
}

TEST(GgufModel, QuantisedTensorsAModelWithoutGgufFormAndLoraAreRefusedByName) {
  test::TempDir tmp("gguf-model");
  LlamaImpl llama(small_llama("llama"));
  export_gguf(llama, nullptr, tmp_path(tmp, "m.gguf"), {"f32", "", ""});
  // The same file with token_embd as Q8_0 (34-byte blocks of 32).
  auto f = gguf::File::open(tmp_path(tmp, "m.gguf"));
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata()) w.set(k, v);
  for (const auto& t : f->tensors()) {
    if (t.name != "token_embd.weight") {
      w.add_tensor(t.name, t.type, t.shape, f->data(t), t.nbytes);
      continue;
    }
    const std::string q8(static_cast<size_t>(t.numel() / 32 * 34), '\0');
    w.add_tensor(t.name, gguf::GgmlType::Q8_0, t.shape, [q8](const gguf::Writer::Sink& sink) { sink(q8.data(), q8.size()); });
  }
  w.write(tmp_path(tmp, "q8.gguf"));
  const std::string quantised = test::user_error_of([&] { read_checkpoint(tmp_path(tmp, "q8.gguf"), false); });
  EXPECT_NE(quantised.find("Q8_0"), std::string::npos) << quantised;
  EXPECT_NE(quantised.find("token_embd.weight"), std::string::npos) << quantised;

  MlpImpl mlp(MlpConfig{});
  const std::string no_form = test::user_error_of([&] { export_gguf(mlp, nullptr, tmp_path(tmp, "r.gguf"), {}); });
  EXPECT_NE(no_form.find("no GGUF form"), std::string::npos) << no_form;

  LoraConfig lc;
  lc.r = 2;
  attach_lora(llama, lc, "test");
  const std::string lora = test::user_error_of([&] { export_gguf(llama, nullptr, tmp_path(tmp, "l.gguf"), {}); });
  EXPECT_NE(lora.find("--merge-lora"), std::string::npos) << lora;
  const std::string exists = test::user_error_of([&] { export_gguf_adapter(llama, 4, tmp_path(tmp, "m.gguf"), {}); });
  EXPECT_NE(exists.find("exists"), std::string::npos) << exists;
}

}  // namespace
}  // namespace ptft
