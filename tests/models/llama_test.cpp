// The llama family's own behaviour (the registry suite, tests/models/family_suite_test.cpp, covers
// what every family shares; tests/io/hf_llama_test.cpp the Hugging Face golden files):
// rotary frequencies, the KV cache with every option on, causality, config.json flavours and
// the errors of configs ptft does not compute.
#include <gtest/gtest.h>

#include <cmath>

#include "../common/user_error.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/llama.h"

namespace ptft {
namespace {

// Every option at once: GQA, head_dim != C / heads, q/k norm, llama3 rope scaling, untied head.
LlamaConfig all_options() {
  LlamaConfig c;
  c.model_type = "qwen3";
  c.vocab_size = 67;
  c.hidden_size = 32;
  c.intermediate_size = 40;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 12;
  c.max_position_embeddings = 24;
  c.qk_norm = true;
  c.rope_type = "llama3";
  c.rope_factor = 8;
  c.rope_original_max_position_embeddings = 16;
  return c;
}

TEST(LlamaRope, Llama3FrequenciesFollowTheBlendByWavelength) {
  nn::RopeScaling s;
  s.type = "llama3";
  s.factor = 8;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  s.original_max_positions = 64;
  const int64_t d = 32;
  const double theta = 10000;
  auto got = nn::rope_inv_freq(d, theta, s);
  int kept = 0, scaled = 0, blended = 0;
  for (int64_t i = 0; i < d / 2; ++i) {
    const double f = 1.0 / std::pow(theta, 2.0 * static_cast<double>(i) / d);
    const double wavelen = 2 * M_PI / f;
    double want;
    if (wavelen < 64.0 / 4) {
      want = f, ++kept;
    } else if (wavelen > 64.0 / 1) {
      want = f / 8, ++scaled;
    } else {
      const double smooth = (64.0 / wavelen - 1) / (4 - 1);
      want = (1 - smooth) * f / 8 + smooth * f, ++blended;
    }
    EXPECT_NEAR(got[i].item<double>(), want, 2e-6 * want) << "i " << i;
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(scaled, 0);
  EXPECT_GT(blended, 0);
}

TEST(LlamaRope, LinearScalingDividesTheFrequencies) {
  nn::RopeScaling none, linear;
  linear.type = "linear";
  linear.factor = 2;
  auto a = nn::rope_inv_freq(16, 500000, none), b = nn::rope_inv_freq(16, 500000, linear);
  EXPECT_TRUE(torch::allclose(a / 2, b));
  EXPECT_NEAR(a[0].item<double>(), 1.0, 0);
  EXPECT_NEAR(a[1].item<double>(), std::pow(500000.0, -2.0 / 16), 1e-7);
}

TEST(Llama, KvCacheMatchesFullForwardWithEveryOption) {
  torch::manual_seed(0);
  LlamaImpl m(all_options());
  m.eval();
  torch::NoGradGuard ng;
  auto ids = torch::randint(67, {2, 20}, torch::kLong);
  auto full = m.forward_cached(ids, nullptr);  // (2,20,V)
  std::vector<nn::KvCache> caches;
  std::vector<torch::Tensor> parts = {m.forward_cached(ids.slice(1, 0, 9), &caches)};  // prefill 9
  for (int64_t t = 9; t < 20; ++t) parts.push_back(m.forward_cached(ids.slice(1, t, t + 1), &caches));
  auto inc = torch::cat(parts, 1);
  EXPECT_TRUE(torch::allclose(full, inc, 1e-4, 1e-5)) << (full - inc).abs().max();
  EXPECT_EQ(caches[0].length(), 20);
  EXPECT_EQ(caches[0].keys().size(1), 2);  // the cache keeps the key/value heads only
  EXPECT_EQ(caches[0].keys().size(3), 12);
  // next_logits: the last position's row only, prompt and decode step alike.
  std::vector<nn::KvCache> again;
  EXPECT_TRUE(torch::allclose(m.next_logits(ids.slice(1, 0, 9), &again), parts[0].select(1, 8), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(m.next_logits(ids.slice(1, 9, 10), &again), parts[1].select(1, 0), 1e-5, 1e-6));
}

TEST(Llama, IsCausalAndPositionsMatter) {
  torch::manual_seed(1);
  LlamaImpl m(all_options());
  m.eval();
  torch::NoGradGuard ng;
  auto a = torch::randint(67, {1, 12}, torch::kLong);
  auto b = a.clone();
  b.index_put_({0, torch::indexing::Slice(6)}, torch::randint(67, {6}, torch::kLong));
  auto la = m.forward_cached(a, nullptr), lb = m.forward_cached(b, nullptr);
  EXPECT_TRUE(torch::allclose(la.slice(1, 0, 6), lb.slice(1, 0, 6), 1e-5, 1e-6));
  // Without positions, the last token's output would not depend on the order of the tokens
  // before it (attention is a weighted sum over a set); rotary positions make it depend.
  auto abc = torch::tensor({{3, 9, 20}}, torch::kLong), bac = torch::tensor({{9, 3, 20}}, torch::kLong);
  auto l1 = m.forward_cached(abc, nullptr)[0][2], l2 = m.forward_cached(bac, nullptr)[0][2];
  EXPECT_FALSE(torch::allclose(l1, l2, 1e-4, 1e-5));
}

TEST(Llama, HfNamesAndShapes) {
  LlamaImpl m(all_options());
  auto sd = state_dict(m);
  EXPECT_EQ(sd.at("model.embed_tokens.weight").sizes(), (std::vector<int64_t>{67, 32}));
  EXPECT_EQ(sd.at("model.layers.1.self_attn.q_proj.weight").sizes(), (std::vector<int64_t>{48, 32}));  // 4 x 12
  EXPECT_EQ(sd.at("model.layers.1.self_attn.k_proj.weight").sizes(), (std::vector<int64_t>{24, 32}));  // 2 x 12
  EXPECT_EQ(sd.at("model.layers.1.self_attn.o_proj.weight").sizes(), (std::vector<int64_t>{32, 48}));
  EXPECT_EQ(sd.at("model.layers.1.self_attn.q_norm.weight").sizes(), (std::vector<int64_t>{12}));
  EXPECT_EQ(sd.at("model.layers.0.mlp.gate_proj.weight").sizes(), (std::vector<int64_t>{40, 32}));
  EXPECT_EQ(sd.at("model.layers.0.mlp.down_proj.weight").sizes(), (std::vector<int64_t>{32, 40}));
  EXPECT_TRUE(sd.count("model.layers.0.input_layernorm.weight"));
  EXPECT_TRUE(sd.count("model.layers.0.post_attention_layernorm.weight"));
  EXPECT_TRUE(sd.count("model.norm.weight"));
  EXPECT_TRUE(sd.count("lm_head.weight"));
  EXPECT_FALSE(sd.count("model.layers.0.self_attn.q_proj.bias"));
  LlamaConfig tied = all_options();
  tied.tie_word_embeddings = true;
  EXPECT_FALSE(state_dict(LlamaImpl(tied)).count("lm_head.weight"));
}

TEST(LlamaConfigJson, EachFlavourRoundTripsThroughHfKeys) {
  LlamaConfig qwen2 = all_options();
  qwen2.model_type = "qwen2";
  qwen2.qk_norm = false;
  qwen2.qkv_bias = true;
  qwen2.head_dim = 0;
  LlamaConfig llama = qwen2;
  llama.model_type = "llama";
  llama.qkv_bias = false;
  llama.rope_type = "linear";
  llama.rope_factor = 2;
  for (const LlamaConfig& c : {all_options(), qwen2, llama}) {
    const nlohmann::json j = llama_config_json(c);
    const LlamaConfig back = llama_config_from_json(j, "config.json");
    EXPECT_EQ(llama_config_json(back), j) << j.dump();
  }
  const nlohmann::json q3 = llama_config_json(all_options());
  EXPECT_EQ(q3["architectures"][0], "Qwen3ForCausalLM");
  EXPECT_EQ(q3["head_dim"], 12);
  EXPECT_EQ(q3["rope_scaling"]["rope_type"], "llama3");
  EXPECT_EQ(q3["rope_scaling"]["original_max_position_embeddings"], 16);
  EXPECT_EQ(llama_config_json(qwen2)["architectures"][0], "Qwen2ForCausalLM");
  EXPECT_FALSE(llama_config_json(qwen2).contains("head_dim"));
  EXPECT_EQ(llama_config_json(llama)["attention_bias"], false);
}

TEST(LlamaConfigJson, HfDefaultsOfEachClass) {
  nlohmann::json j = {{"model_type", "qwen3"}, {"vocab_size", 64}, {"hidden_size", 64}, {"intermediate_size", 96},
                      {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"num_key_value_heads", 1}};
  LlamaConfig q3 = llama_config_from_json(j, "config.json");
  EXPECT_EQ(q3.head_size(), 128);  // Qwen3Config's default head_dim, not hidden / heads
  EXPECT_TRUE(q3.qk_norm);
  j["model_type"] = "qwen2";
  LlamaConfig q2 = llama_config_from_json(j, "config.json");
  EXPECT_EQ(q2.head_size(), 32);
  EXPECT_TRUE(q2.qkv_bias);
  EXPECT_FALSE(q2.o_bias);
  j["model_type"] = "llama";
  j["attention_bias"] = true;
  LlamaConfig l = llama_config_from_json(j, "config.json");
  EXPECT_TRUE(l.qkv_bias && l.o_bias);
}

TEST(LlamaConfigJson, WhatPtftDoesNotComputeIsRefusedByName) {
  nlohmann::json j = {{"model_type", "llama"}, {"vocab_size", 64}, {"hidden_size", 64}, {"intermediate_size", 96},
                      {"num_hidden_layers", 1}, {"num_attention_heads", 2}};
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json k = j;
    k[key] = std::move(value);
    return test::user_error([&] { llama_config_from_json(k, "d/config.json"); });
  };
  std::string err = with("rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}});
  EXPECT_NE(err.find("'d/config.json': rope_scaling type \"yarn\" is not supported"), std::string::npos) << err;
  err = with("hidden_act", "gelu");
  EXPECT_NE(err.find("hidden_act \"gelu\""), std::string::npos) << err;
  err = with("model_type", "gemma");
  EXPECT_NE(err.find("model_type \"gemma\" is not of the llama family"), std::string::npos) << err;
  nlohmann::json mistral = j;
  mistral["model_type"] = "mistral";
  mistral["sliding_window"] = 16;
  err = test::user_error([&] { llama_config_from_json(mistral, "d/config.json"); });
  EXPECT_NE(err.find("sliding-window attention (sliding_window 16) is not supported"), std::string::npos) << err;
  mistral["sliding_window"] = nullptr;
  EXPECT_EQ(test::user_error([&] { llama_config_from_json(mistral, "d/config.json"); }), "");
  err = with("num_key_value_heads", 3);
  EXPECT_NE(err.find("num_key_value_heads (3) must divide model.num_attention_heads (2)"), std::string::npos) << err;
}

TEST(LlamaConfigJson, AFamilyThatIsNoStringIsAUserError) {
  const std::string err = test::user_error([] { model_from_config_json({{"ptft", {{"family", 5}}}}, "d/config.json"); });
  EXPECT_NE(err.find("'d/config.json': \"ptft.family\" must be a string, got 5"), std::string::npos) << err;
}

TEST(LlamaConfigJson, ModelTypeMustMatchTheOptions) {
  LlamaConfig c = all_options();
  c.model_type = "llama";  // but q/k norm on
  const std::string err = test::user_error([&] { c.validate(); });
  EXPECT_NE(err.find("model.model_type llama does not match the other model keys"), std::string::npos) << err;
  EXPECT_NE(err.find("LlamaForCausalLM has no q/k norm"), std::string::npos) << err;
}

}  // namespace
}  // namespace ptft
