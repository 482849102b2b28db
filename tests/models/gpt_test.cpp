// GPT-2 model: shapes, causality, KV cache == full forward, LoRA starts as the identity and
// merges exactly, config round trip, save -> load, overfit one batch.
#include <gtest/gtest.h>

#include "ptft/core/error.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/gpt.h"
#include "ptft/train/causal_lm_task.h"

namespace ptft {
namespace {

GptConfig tiny() {
  GptConfig c;
  c.vocab_size = 61;
  c.n_positions = 16;
  c.n_embd = 32;
  c.n_layer = 2;
  c.n_head = 4;
  return c;
}

TEST(Gpt, LogitsHaveShapeBTV) {
  torch::manual_seed(0);
  GptImpl m(tiny());
  auto ids = torch::randint(61, {3, 10}, torch::kLong);
  auto out = m.forward({{"input_ids", ids}});
  EXPECT_EQ(out.at("logits").sizes(), (std::vector<int64_t>{3, 10, 61}));
}

TEST(Gpt, IsCausal) {
  torch::manual_seed(0);
  GptImpl m(tiny());
  m.eval();
  auto a = torch::randint(61, {1, 12}, torch::kLong);
  auto b = a.clone();
  b.index_put_({0, torch::indexing::Slice(6)}, torch::randint(61, {6}, torch::kLong));  // change the future
  auto la = m.forward({{"input_ids", a}}).at("logits");
  auto lb = m.forward({{"input_ids", b}}).at("logits");
  EXPECT_TRUE(torch::allclose(la.slice(1, 0, 6), lb.slice(1, 0, 6), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(la.slice(1, 6), lb.slice(1, 6), 1e-5, 1e-6));
}

TEST(Gpt, KvCacheMatchesFullForward) {
  torch::manual_seed(0);
  GptImpl m(tiny());
  m.eval();
  torch::NoGradGuard ng;
  auto ids = torch::randint(61, {2, 11}, torch::kLong);
  auto full = m.forward_cached(ids, nullptr);  // (2,11,V)
  std::vector<nn::KvCache> caches;
  auto first = m.forward_cached(ids.slice(1, 0, 7), &caches);  // prefill 7
  std::vector<torch::Tensor> parts = {first};
  for (int64_t t = 7; t < 11; ++t) parts.push_back(m.forward_cached(ids.slice(1, t, t + 1), &caches));
  auto inc = torch::cat(parts, 1);
  EXPECT_TRUE(torch::allclose(full, inc, 1e-4, 1e-5)) << (full - inc).abs().max();
  EXPECT_EQ(caches[0].length(), 11);
  // next_logits: the last position's row only, prompt and decode step alike.
  std::vector<nn::KvCache> again;
  EXPECT_TRUE(torch::allclose(m.next_logits(ids.slice(1, 0, 7), &again), first.select(1, 6), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(m.next_logits(ids.slice(1, 7, 8), &again), parts[1].select(1, 0), 1e-5, 1e-6));
}

TEST(Gpt, LongerThanContextIsAUserError) {
  GptImpl m(tiny());
  auto ids = torch::zeros({1, 17}, torch::kLong);
  try {
    m.forward({{"input_ids", ids}});
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("n_positions 16"), std::string::npos) << e.message();
  }
}

TEST(Gpt, ConfigValidationNamesTheKeys) {
  GptConfig c = tiny();
  c.n_head = 5;
  try {
    c.validate();
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("n_embd (32) must be divisible by model.n_head (5)"), std::string::npos) << e.message();
  }
}

TEST(Gpt, ConfigJsonRoundTripAndWeightsReload) {
  torch::manual_seed(1);
  auto m = std::make_shared<GptImpl>(tiny());
  m->eval();
  auto j = m->config_json();
  EXPECT_EQ(j["model_type"], "gpt2");
  EXPECT_EQ(j["n_embd"], 32);
  auto m2 = model_from_config_json(j, "config.json");
  EXPECT_EQ(m2->family(), "gpt");
  load_into(*m2, state_dict(*m), "memory", true);
  m2->eval();
  auto ids = torch::randint(61, {2, 8}, torch::kLong);
  EXPECT_TRUE(torch::equal(m->forward({{"input_ids", ids}}).at("logits"), m2->forward({{"input_ids", ids}}).at("logits")));
  // HF names: the tied head has no separate parameter; blocks carry transformer.h.N prefixes.
  auto sd = state_dict(*m);
  EXPECT_TRUE(sd.count("transformer.wte.weight"));
  EXPECT_TRUE(sd.count("transformer.h.1.attn.c_attn.weight"));
  EXPECT_EQ(sd.at("transformer.h.1.attn.c_attn.weight").sizes(), (std::vector<int64_t>{96, 32}));
  EXPECT_TRUE(sd.count("transformer.ln_f.bias"));
  EXPECT_FALSE(sd.count("lm_head.weight"));
}

TEST(Gpt, LoraStartsAsIdentityAndMergesExactly) {
  torch::manual_seed(2);
  GptImpl m(tiny());
  m.eval();
  auto ids = torch::randint(61, {2, 8}, torch::kLong);
  auto before = m.forward({{"input_ids", ids}}).at("logits");
  auto attn = m.transformer->h[0]->as<GptBlock>()->attn;
  attn->c_attn->add_lora(4, 8.0, 0.0);
  auto sd = state_dict(m);
  EXPECT_TRUE(sd.count("transformer.h.0.attn.c_attn.lora_A.weight"));
  EXPECT_TRUE(torch::allclose(before, m.forward({{"input_ids", ids}}).at("logits")));
  {
    torch::NoGradGuard ng;
    attn->c_attn->lora_B->weight.normal_(0, 0.1);
  }
  auto adapted = m.forward({{"input_ids", ids}}).at("logits");
  EXPECT_FALSE(torch::allclose(before, adapted));
  attn->c_attn->merge_lora();
  EXPECT_FALSE(attn->c_attn->has_lora());
  EXPECT_TRUE(torch::allclose(adapted, m.forward({{"input_ids", ids}}).at("logits"), 1e-5, 1e-5));
}

TEST(Gpt, OverfitsOneBatch) {
  torch::manual_seed(3);
  GptImpl m(tiny());
  CausalLmTask task;
  auto ids = torch::randint(61, {4, 13}, torch::kLong);
  Batch b{{{"input_ids", ids.slice(1, 0, 12)}, {"targets", ids.slice(1, 1, 13)}}, 48};
  torch::optim::AdamW opt(m.parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.0));
  double loss = 0;
  for (int i = 0; i < 200; ++i) {
    opt.zero_grad();
    auto l = task.loss_sum(m, b) / 48.0;
    l.backward();
    opt.step();
    loss = l.item<double>();
  }
  EXPECT_LT(loss, 0.05);
}

}  // namespace
}  // namespace ptft
