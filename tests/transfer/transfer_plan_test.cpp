// TransferPlan and LoRA on a small GPT-2: which parameters train under each strategy, per-layer
// LR multipliers, gradual unfreezing stages, unfreeze_after (frozen, then training at
// backbone_lr), adapter attachment by name (and the error that lists the projections), merge ==
// adapted model, PEFT adapter files.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "../common/temp_dir.h"
#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/gpt.h"
#include "ptft/train/optimizer.h"
#include "ptft/transfer/lora.h"
#include "ptft/transfer/transfer_plan.h"

namespace ptft {
namespace {

std::shared_ptr<GptImpl> tiny_gpt() {
  GptConfig c;
  c.vocab_size = 50;
  c.n_positions = 16;
  c.n_embd = 16;
  c.n_layer = 3;
  c.n_head = 2;
  torch::manual_seed(0);
  return std::make_shared<GptImpl>(c);
}

struct Planned {
  std::shared_ptr<GptImpl> model = tiny_gpt();
  TransferPlan plan;
  std::vector<ParamGroup> groups;
  std::map<std::string, double> lr;  // parameter -> lr_mult
};

Planned plan_for(const std::string& yaml) {
  Planned p;
  auto doc = config::Document::from_string(yaml, "ft.yaml");
  TransferConfig tc;
  config::bind(doc, tc, "finetune");
  p.plan = TransferPlan::apply(*p.model, tc, doc);
  p.groups = p.plan.param_groups(*p.model, 0.1);
  for (const auto& g : p.groups)
    for (const auto& n : g.names) p.lr[n] = g.lr_mult;
  return p;
}

std::set<std::string> trainable(GptImpl& m) {
  std::set<std::string> s;
  for (auto& np : m.named_parameters(true))
    if (np.value().requires_grad()) s.insert(np.key());
  return s;
}

TEST(TransferPlan, FullTrainsEverything) {
  auto p = plan_for("finetune: {strategy: full}\n");
  EXPECT_EQ(trainable(*p.model).size(), p.model->named_parameters(true).size());
}

TEST(TransferPlan, FreezeKeepsEmbeddingsAndFirstBlocksFixed) {
  auto p = plan_for("finetune: {strategy: freeze, freeze_layers: 2}\n");
  auto t = trainable(*p.model);
  for (const auto& n : t) {
    EXPECT_EQ(n.find("transformer.wte"), std::string::npos) << n;
    EXPECT_EQ(n.find("transformer.wpe"), std::string::npos) << n;
    EXPECT_EQ(n.find("transformer.h.0."), std::string::npos) << n;
    EXPECT_EQ(n.find("transformer.h.1."), std::string::npos) << n;
  }
  EXPECT_TRUE(t.count("transformer.h.2.attn.c_attn.weight"));
  EXPECT_TRUE(t.count("transformer.ln_f.weight"));
  // The optimizer holds exactly the trainable parameters.
  size_t in_groups = 0;
  for (const auto& g : p.groups) in_groups += g.params.size();
  EXPECT_EQ(in_groups, t.size());
}

TEST(TransferPlan, FreezeStrategyNeedsACount) {
  EXPECT_THROW(
      {
        try {
          plan_for("finetune: {strategy: freeze}\n");
        } catch (const UserError& e) {
          EXPECT_NE(std::string(e.what()).find("freeze_layers"), std::string::npos) << e.what();
          throw;
        }
      },
      UserError);
  EXPECT_THROW(plan_for("finetune: {strategy: freeze, freeze_layers: 4}\n"), UserError);  // only 3 blocks
}

TEST(TransferPlan, HeadTrainsFinalNormAndTiedEmbedding) {
  auto p = plan_for("finetune: {strategy: head}\n");
  EXPECT_EQ(trainable(*p.model),
            (std::set<std::string>{"transformer.ln_f.weight", "transformer.ln_f.bias", "transformer.wte.weight"}));
}

TEST(TransferPlan, LayerLrDecayScalesByDepth) {
  auto p = plan_for("finetune: {strategy: full, layer_lr_decay: 0.5}\n");
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.ln_f.weight"), 1.0);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.h.2.mlp.c_fc.weight"), 0.5);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.h.1.mlp.c_fc.weight"), 0.25);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.h.0.mlp.c_fc.weight"), 0.125);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.wpe.weight"), 0.0625);
}

TEST(TransferPlan, BackboneLrScalesEverythingBelowTheHead) {
  auto p = plan_for("finetune: {strategy: full, backbone_lr: 0.1, layer_lr_decay: 0.5}\n");
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.ln_f.weight"), 1.0);
  // GPT's tied wte is the head for backbone_lr; layer_lr_decay treats it as the embedding it is.
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.wte.weight"), 0.0625);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.h.2.mlp.c_fc.weight"), 0.05);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.wpe.weight"), 0.1 * 0.0625);
  EXPECT_THROW(plan_for("finetune: {strategy: full, backbone_lr: 0}\n"), UserError);
}

TEST(TransferPlan, GradualUnfreezingAddsOneBlockPerStageTopDown) {
  auto p = plan_for("finetune: {strategy: full, unfreeze_every: 10}\n");
  auto has_block = [&](int b) { return p.model->transformer->h[b]->parameters()[0].requires_grad(); };
  // Steps 1-10: head only.
  EXPECT_FALSE(has_block(2));
  EXPECT_TRUE(p.model->transformer->ln_f->weight.requires_grad());
  // Every parameter that will ever train is already in the optimizer.
  size_t in_groups = 0;
  for (const auto& g : p.groups) in_groups += g.params.size();
  EXPECT_EQ(in_groups, p.model->named_parameters(true).size());
  EXPECT_TRUE(p.plan.before_step(*p.model, 10).empty());
  EXPECT_FALSE(p.plan.before_step(*p.model, 11).empty());  // stage 1: the top block
  EXPECT_TRUE(has_block(2));
  EXPECT_FALSE(has_block(1));
  p.plan.before_step(*p.model, 31);  // stage 3: every block
  EXPECT_TRUE(has_block(0));
  EXPECT_FALSE(p.model->transformer->wpe->weight.requires_grad());
  p.plan.before_step(*p.model, 41);  // stage 4: embeddings
  EXPECT_TRUE(p.model->transformer->wpe->weight.requires_grad());
  // Resuming at a later step sets the stage directly.
  auto q = plan_for("finetune: {strategy: full, unfreeze_every: 10}\n");
  q.plan.before_step(*q.model, 25);
  EXPECT_TRUE(q.model->transformer->h[1]->parameters()[0].requires_grad());
  EXPECT_FALSE(q.model->transformer->h[0]->parameters()[0].requires_grad());
}

TEST(TransferPlan, UnfreezeAfterTrainsWhatTheStrategyFrozeFromStepNPlusOneAtBackboneLr) {
  const std::string yaml =
      "finetune: {strategy: head, unfreeze_after: 3, backbone_lr: 0.1, layer_lr_decay: 0.5, "
      "freeze: [\"transformer.wpe.*\"]}\n";
  auto p = plan_for(yaml);
  // In the optimizer from the start, at backbone_lr x layer_lr_decay^depth; the head at x1;
  // the `freeze` glob's parameters never train.
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.ln_f.weight"), 1.0);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.h.2.mlp.c_fc.weight"), 0.1 * 0.5);
  EXPECT_DOUBLE_EQ(p.lr.at("transformer.h.0.mlp.c_fc.weight"), 0.1 * 0.125);
  EXPECT_FALSE(p.lr.count("transformer.wpe.weight"));

  torch::Tensor block0 = p.model->transformer->h[0]->parameters()[0];
  torch::Tensor wpe = p.model->transformer->wpe->weight;
  const torch::Tensor block0_start = block0.detach().clone(), wpe_start = wpe.detach().clone();
  OptimConfig oc;
  auto opt = make_optimizer(oc, p.groups);
  torch::manual_seed(1);
  const auto ids = torch::randint(50, {2, 8}, torch::kLong);
  for (int64_t step = 1; step <= 6; ++step) {
    const std::string msg = p.plan.before_step(*p.model, step);
    EXPECT_EQ(msg.empty(), step != 4) << "step " << step << ": " << msg;
    if (step == 4) {
      EXPECT_NE(msg.find("unfreeze after 3 steps"), std::string::npos) << msg;
    }
    EXPECT_EQ(block0.requires_grad(), step > 3) << "step " << step;
    EXPECT_FALSE(wpe.requires_grad()) << "step " << step;
    p.model->forward({{"input_ids", ids}}).at("logits").pow(2).mean().backward();
    opt->step(1e-2);
    opt->zero_grad();
    if (step == 3) {
      EXPECT_TRUE(torch::equal(block0, block0_start)) << "block 0 changed while frozen";
    }
  }
  EXPECT_FALSE(torch::equal(block0, block0_start)) << "block 0 did not train after step 3";
  EXPECT_TRUE(torch::equal(wpe, wpe_start));

  // A run resumed after the switch starts unfrozen; strategy freeze unfreezes its frozen layers.
  auto q = plan_for(yaml);
  q.plan.before_step(*q.model, 10);
  EXPECT_TRUE(q.model->transformer->h[0]->parameters()[0].requires_grad());
  auto f = plan_for("finetune: {strategy: freeze, freeze_layers: 2, unfreeze_after: 5}\n");
  EXPECT_FALSE(f.model->transformer->h[1]->parameters()[0].requires_grad());
  EXPECT_FALSE(f.model->transformer->wte->weight.requires_grad());
  f.plan.before_step(*f.model, 6);
  EXPECT_TRUE(f.model->transformer->h[1]->parameters()[0].requires_grad());
  EXPECT_TRUE(f.model->transformer->wte->weight.requires_grad());
}

TEST(TransferPlan, UnfreezeAfterNeedsAFreezingStrategyAndNotUnfreezeEvery) {
  for (const char* strategy : {"full", "lora"}) {
    try {
      plan_for(std::string("finetune: {strategy: ") + strategy + ", unfreeze_after: 5}\n");
      FAIL() << strategy << ": expected a UserError";
    } catch (const UserError& e) {
      EXPECT_NE(e.message().find("finetune.unfreeze_after"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(strategy), std::string::npos) << e.message();
      EXPECT_NE(e.hint().find("strategy head"), std::string::npos) << e.hint();
    }
  }
  try {
    plan_for("finetune: {strategy: head, unfreeze_after: 5, unfreeze_every: 2}\n");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("finetune.unfreeze_after and finetune.unfreeze_every"), std::string::npos)
        << e.message();
    EXPECT_NE(e.hint().find("choose one"), std::string::npos) << e.hint();
  }
  EXPECT_THROW(plan_for("finetune: {strategy: head, unfreeze_after: -1}\n"), UserError);
}

TEST(TransferPlan, FreezePatternThatMatchesNothingNamesParameters) {
  try {
    plan_for("finetune: {strategy: full, freeze: [\"layers.0.*\"]}\n");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    const std::string m = e.message() + " | " + e.hint();
    EXPECT_NE(m.find("'layers.0.*' matches no parameter"), std::string::npos) << m;
    EXPECT_NE(m.find("transformer.wte.weight"), std::string::npos) << m;
  }
}

TEST(Lora, OnlyAdaptersTrainAndTargetsMatchBySuffix) {
  auto p = plan_for("finetune: {strategy: lora, lora: {r: 4, alpha: 8, targets: [c_attn, mlp.c_proj]}}\n");
  auto t = trainable(*p.model);
  EXPECT_EQ(t.size(), 3u * 2u * 2u);  // 3 blocks x (c_attn, mlp.c_proj) x (A, B)
  EXPECT_TRUE(t.count("transformer.h.0.attn.c_attn.lora_A.weight"));
  EXPECT_TRUE(t.count("transformer.h.2.mlp.c_proj.lora_B.weight"));
  EXPECT_FALSE(t.count("transformer.h.0.attn.c_proj.lora_A.weight"));
  EXPECT_TRUE(p.plan.uses_lora());
}

TEST(Lora, UnknownTargetListsTheProjections) {
  try {
    plan_for("finetune: {strategy: lora, lora: {targets: [q_proj]}}\n");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    const std::string m = e.message() + " | " + e.hint();
    EXPECT_NE(m.find("'q_proj' matches no projection"), std::string::npos) << m;
    EXPECT_NE(m.find("transformer.h.0.attn.c_attn"), std::string::npos) << m;
    EXPECT_NE(m.find("ft.yaml"), std::string::npos) << m;
  }
}

TEST(Lora, MergeGivesTheAdaptedModelsOutputs) {
  auto m = tiny_gpt();
  LoraConfig lc;
  lc.r = 4;
  lc.alpha = 8;
  attach_lora(*m, lc, "test");
  {
    torch::NoGradGuard ng;
    for (auto& np : m->named_parameters(true))
      if (np.key().find("lora_B") != std::string::npos) np.value().normal_(0, 0.1);  // a trained adapter
  }
  m->eval();
  auto ids = torch::randint(50, {2, 9}, torch::kLong);
  auto adapted = m->forward({{"input_ids", ids}}).at("logits");
  EXPECT_TRUE(has_lora(*m));
  merge_lora(*m);
  EXPECT_FALSE(has_lora(*m));
  auto merged = m->forward({{"input_ids", ids}}).at("logits");
  EXPECT_TRUE(torch::allclose(adapted, merged, 1e-4, 1e-5)) << (adapted - merged).abs().max().item<float>();
  EXPECT_EQ(state_dict(*m).size(), state_dict(*tiny_gpt()).size());
}

TEST(Lora, PeftAdapterFilesUsePeftNames) {
  auto m = tiny_gpt();
  LoraConfig lc;
  lc.r = 2;
  lc.alpha = 4;
  lc.targets = {"c_attn"};
  attach_lora(*m, lc, "test");
  test::TempDir tmp("peft");
  save_peft_adapter(tmp.path, *m, lc, "/ckpt/base");
  auto t = load_tensors(tmp.path + "/adapter_model.safetensors");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t.at("base_model.model.transformer.h.1.attn.c_attn.lora_A.weight").sizes(), (std::vector<int64_t>{2, 16}));
  EXPECT_EQ(t.at("base_model.model.transformer.h.1.attn.c_attn.lora_B.weight").sizes(), (std::vector<int64_t>{48, 2}));
  std::ifstream in(tmp.path + "/adapter_config.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["peft_type"], "LORA");
  EXPECT_EQ(j["r"], 2);
  EXPECT_EQ(j["lora_alpha"], 4.0);
  EXPECT_EQ(j["target_modules"], nlohmann::json::array({"c_attn"}));
  EXPECT_EQ(j["base_model_name_or_path"], "/ckpt/base");
}

}  // namespace
}  // namespace ptft
