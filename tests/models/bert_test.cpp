// BERT model: shapes, bidirectional attention, padding is invisible, the gathered MLM logits equal
// the full ones, MLM head -> classifier, config.json round trip, save -> load, transfer places,
// overfit one batch (MLM and classification), a check of one block against the formula in double.
#include <gtest/gtest.h>

#include "overfit.h"
#include "ptft/core/compat.h"
#include "ptft/core/error.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/bert.h"
#include "ptft/train/masked_lm_task.h"
#include "ptft/train/optimizer.h"

namespace ptft {
namespace {

BertConfig tiny() {
  BertConfig c;
  c.vocab_size = 53;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 16;
  c.hidden_dropout_prob = 0.0;
  c.attention_probs_dropout_prob = 0.0;
  return c;
}

TEST(Bert, MlmLogitsHaveShapeBTV) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  auto ids = torch::randint(1, 53, {3, 10}, torch::kLong);
  EXPECT_EQ(m.forward({{"input_ids", ids}}).at("logits").sizes(), (std::vector<int64_t>{3, 10, 53}));
  EXPECT_EQ(m.class_names().size(), 0u);
  EXPECT_EQ(m.config_json()["architectures"][0], "BertForMaskedLM");
}

TEST(Bert, IsBidirectional) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  m.eval();
  auto a = torch::randint(1, 53, {1, 12}, torch::kLong);
  auto b = a.clone();
  b.index_put_({0, 11}, (a.index({0, 11}) % 52) + 1);  // change only the last token
  auto la = m.forward({{"input_ids", a}}).at("logits");
  auto lb = m.forward({{"input_ids", b}}).at("logits");
  EXPECT_FALSE(torch::allclose(la.select(1, 0), lb.select(1, 0), 1e-5, 1e-6)) << "position 0 must see the future";
}

TEST(Bert, PaddingIsInvisibleToRealTokens) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  m.eval();
  auto ids = torch::randint(1, 53, {1, 7}, torch::kLong);
  auto padded = torch::cat({ids, torch::zeros({1, 5}, torch::kLong)}, 1);  // 5 x [PAD]
  auto mask = torch::cat({torch::ones({1, 7}, torch::kLong), torch::zeros({1, 5}, torch::kLong)}, 1);
  auto short_h = m.encode(ids, {}, {});
  auto long_h = m.encode(padded, {}, mask);
  EXPECT_TRUE(torch::allclose(short_h, long_h.slice(1, 0, 7), 1e-5, 1e-5));
}

TEST(Bert, GatheredMlmLogitsEqualTheFullOnes) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  m.eval();
  auto ids = torch::randint(1, 53, {2, 9}, torch::kLong);
  auto targets = torch::full({2, 9}, -100, torch::kLong);
  targets.index_put_({0, 3}, 7);
  targets.index_put_({1, 0}, 11);
  targets.index_put_({1, 8}, 2);
  auto full = m.forward({{"input_ids", ids}}).at("logits");                      // (B,T,V)
  auto out = m.forward({{"input_ids", ids}, {"targets", targets}});
  ASSERT_EQ(out.at("logits").sizes(), (std::vector<int64_t>{3, 53}));
  EXPECT_TRUE(torch::equal(out.at("targets"), torch::tensor({7, 11, 2}, torch::kLong)));
  EXPECT_TRUE(torch::allclose(out.at("logits")[0], full[0][3], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.at("logits")[1], full[1][0], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.at("logits")[2], full[1][8], 1e-5, 1e-6));
}

// One post-LN block in double from its own weights: LN(x + attn(x)), LN(h + W2 gelu(W1 h)).
TEST(Bert, BlockMatchesTheFormulaInDouble) {
  torch::manual_seed(0);
  BertConfig c = tiny();
  BertLayerImpl layer(c);
  layer.to(torch::kDouble);
  layer.eval();
  auto x = torch::randn({2, 5, 32}, torch::kDouble);
  auto y = layer.forward(x, {});
  auto lin = [](const torch::Tensor& v, const nn::Linear& l) { return torch::matmul(v, l->weight.t()) + l->bias; };
  auto ln = [](const torch::Tensor& v, const torch::nn::LayerNorm& n, double eps) {
    auto mu = v.mean(-1, true);
    auto var = (v - mu).pow(2).mean(-1, true);
    return (v - mu) / torch::sqrt(var + eps) * n->weight + n->bias;
  };
  auto heads = [](const torch::Tensor& t) { return t.view({2, 5, 4, 8}).transpose(1, 2); };  // (B,nh,T,hs)
  const auto& attn = layer.attention;
  auto att = torch::softmax(
      torch::matmul(heads(lin(x, attn->q_proj)), heads(lin(x, attn->k_proj)).transpose(-2, -1)) / std::sqrt(8.0), -1);
  auto a = torch::matmul(att, heads(lin(x, attn->v_proj))).transpose(1, 2).reshape({2, 5, 32});
  auto h = ln(x + lin(a, attn->o_proj), layer.attention_norm, c.layer_norm_eps);
  auto f = lin(h, layer.intermediate_dense);
  f = 0.5 * f * (1 + torch::erf(f / std::sqrt(2.0)));  // exact GELU
  auto want = ln(h + lin(f, layer.output_dense), layer.output_norm, c.layer_norm_eps);
  EXPECT_LT((y - want).abs().max().item<double>(), 1e-12);
}

// Hugging Face's names and shapes, in HF's order (BertForMaskedLM's state dict, plus the pooler).
TEST(Bert, ParameterNamesAreHuggingFaces) {
  BertImpl m(tiny());
  std::vector<std::string> names;
  for (const auto& p : m.named_parameters(true)) names.push_back(p.key());
  std::vector<std::string> want = {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
                                   "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
                                   "bert.embeddings.LayerNorm.bias"};
  for (int i = 0; i < 2; ++i)
    for (const char* module : {"attention.self.query", "attention.self.key", "attention.self.value",
                               "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                               "output.dense", "output.LayerNorm"})
      for (const char* s : {".weight", ".bias"}) want.push_back("bert.encoder.layer." + std::to_string(i) + "." + module + s);
  for (const char* n : {"bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.predictions.bias",
                        "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                        "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"})
    want.push_back(n);
  EXPECT_EQ(names, want);
  const auto sd = state_dict(m);
  EXPECT_EQ(sd.at("bert.encoder.layer.0.attention.self.value.weight").sizes(), (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(sd.at("bert.encoder.layer.0.intermediate.dense.weight").sizes(), (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(sd.at("bert.encoder.layer.0.output.dense.weight").sizes(), (std::vector<int64_t>{32, 64}));
  // HF's _init_weights: LayerNorm 1/0, biases 0 (the MLM bias too), weights N(0, 0.02).
  EXPECT_TRUE(torch::equal(sd.at("bert.encoder.layer.1.attention.output.LayerNorm.weight"), torch::ones({32})));
  EXPECT_TRUE(torch::equal(sd.at("cls.predictions.bias"), torch::zeros({53})));
  EXPECT_NEAR(sd.at("bert.encoder.layer.1.intermediate.dense.weight").std().item<double>(), 0.02, 0.002);
  // The projections LoRA adapts are nn::Linear; the pooler and the MLM transform are not adapted.
  std::vector<std::string> linear;
  for (const auto& item : m.named_modules("", false))
    if (item.value()->as<nn::LinearImpl>() && item.key().rfind("bert.encoder.layer.0.", 0) == 0) linear.push_back(item.key());
  EXPECT_EQ(linear, (std::vector<std::string>{
                        "bert.encoder.layer.0.attention.self.query", "bert.encoder.layer.0.attention.self.key",
                        "bert.encoder.layer.0.attention.self.value", "bert.encoder.layer.0.attention.output.dense",
                        "bert.encoder.layer.0.intermediate.dense", "bert.encoder.layer.0.output.dense"}));
}

// Cloneable: a layer's clone computes the same and owns its weights (members at their paths).
TEST(Bert, LayerCloneIsADeepCopy) {
  torch::manual_seed(0);
  BertLayer layer(tiny());
  layer->eval();
  auto copy = std::dynamic_pointer_cast<BertLayerImpl>(layer->clone());
  ASSERT_TRUE(copy);
  auto x = torch::randn({2, 5, 32});
  EXPECT_TRUE(torch::equal(layer->forward(x, {}), copy->forward(x, {})));
  {
    torch::NoGradGuard ng;
    copy->output_dense->weight.add_(1.0);
    copy->attention_norm->bias.add_(1.0);
    copy->attention->k_proj->weight.add_(1.0);
  }
  EXPECT_FALSE(torch::allclose(layer->forward(x, {}), copy->forward(x, {})));
  for (const auto& p : copy->named_parameters())
    EXPECT_FALSE(p.value().is_same(layer->named_parameters()[p.key()])) << p.key();
  EXPECT_TRUE(copy->named_parameters()["output.dense.weight"].is_same(copy->output_dense->weight));
  EXPECT_TRUE(copy->named_parameters()["attention.output.LayerNorm.bias"].is_same(copy->attention_norm->bias));
  EXPECT_TRUE(copy->named_parameters()["attention.self.key.weight"].is_same(copy->attention->k_proj->weight));
}

TEST(Bert, SetClassesTurnsTheMlmHeadIntoAClassifier) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  const auto before = state_dict(m);
  m.set_classes({"law", "food", "love"}, true);
  auto out = m.forward({{"input_ids", torch::randint(1, 53, {4, 6}, torch::kLong)}});
  EXPECT_EQ(out.at("logits").sizes(), (std::vector<int64_t>{4, 3}));
  out.at("logits").sum().backward();  // no tied decoder left: the lookup's gradient is dense
  EXPECT_FALSE(m.bert->embeddings->word_embeddings->weight.grad().is_sparse());
  const auto after = state_dict(m);
  EXPECT_EQ(after.count("cls.predictions.bias"), 0u);
  EXPECT_EQ(after.count("classifier.weight"), 1u);
  EXPECT_TRUE(torch::equal(after.at("bert.encoder.layer.1.attention.self.key.weight"),
                           before.at("bert.encoder.layer.1.attention.self.key.weight")));
  const auto j = m.config_json();
  EXPECT_EQ(j["architectures"][0], "BertForSequenceClassification");
  EXPECT_EQ(j["id2label"]["1"], "food");
  EXPECT_EQ(m.param_place("classifier.weight").kind, ParamPlace::kHead);
  EXPECT_EQ(m.param_place("bert.pooler.dense.weight").kind, ParamPlace::kHead);
  EXPECT_EQ(m.param_place("bert.encoder.layer.1.output.LayerNorm.bias").block, 1);
  EXPECT_EQ(m.param_place("bert.embeddings.word_embeddings.weight").kind, ParamPlace::kEmbedding);
  EXPECT_FALSE(m.param_place("bert.embeddings.word_embeddings.weight").tied_head);
}

TEST(Bert, ConfigJsonRoundTripAndWeightsReload) {
  torch::manual_seed(0);
  auto m = std::make_shared<BertImpl>(tiny());
  m->set_classes({"a", "b"}, true);
  const auto j = m->config_json();
  EXPECT_EQ(j["model_type"], "bert");
  EXPECT_EQ(j["hidden_act"], "gelu");
  EXPECT_DOUBLE_EQ(j["layer_norm_eps"].get<double>(), 1e-12);
  ModelPtr m2 = model_from_config_json(j, "test");
  load_into(*m2, state_dict(*m), "test", true);
  m->eval();
  m2->eval();
  auto ids = torch::randint(1, 53, {2, 8}, torch::kLong);
  EXPECT_TRUE(torch::equal(m->forward({{"input_ids", ids}}).at("logits"), m2->forward({{"input_ids", ids}}).at("logits")));
  EXPECT_EQ(m2->class_names(), (std::vector<std::string>{"a", "b"}));
}

TEST(Bert, ConfigValidationNamesTheKeys) {
  BertConfig c = tiny();
  c.num_attention_heads = 5;
  try {
    BertImpl m(c);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("model.num_attention_heads"), std::string::npos) << e.what();
  }
  nlohmann::json j = BertImpl(tiny()).config_json();
  j["hidden_act"] = "relu";
  EXPECT_THROW(bert_config_from_json(j, "x/config.json"), UserError);
}

TEST(Bert, LongerThanContextIsAUserError) {
  BertImpl m(tiny());
  EXPECT_THROW(m.forward({{"input_ids", torch::ones({1, 17}, torch::kLong)}}), UserError);
}

TEST(Bert, OverfitsOneMlmBatch) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  auto ids = torch::randint(5, 53, {4, 12}, torch::kLong);
  auto targets = torch::full({4, 12}, -100, torch::kLong);
  auto masked = ids.clone();
  for (int b = 0; b < 4; ++b)
    for (int t : {2, 7}) {
      targets.index_put_({b, t}, ids.index({b, t}));
      masked.index_put_({b, t}, 4);  // a [MASK]-like id
    }
  Batch batch{{{"input_ids", masked}, {"targets", targets}}, 8};
  MaskedLmTask task;
  AdamW opt(default_param_groups(m, 0.0, [](const std::string&) { return 1.0; }), 0.9, 0.999, 1e-8);
  double first = 0, loss = 0;
  for (int s = 0; s < 200; ++s) {
    auto l = task.loss_sum(m, batch) / 8.0;
    loss = l.item<double>();
    if (s == 0) first = loss;
    if (loss < 0.05) break;
    l.backward();
    opt.step(5e-3);
    opt.zero_grad();
  }
  EXPECT_GT(first, 3.0);
  EXPECT_LT(loss, 0.05);
}

TEST(Bert, OverfitsOneClassificationBatch) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  m.set_classes({"x", "y", "z"}, true);
  Batch b{{{"input_ids", torch::randint(1, 53, {6, 10}, torch::kLong)}, {"y", torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong)}}, 6};
  auto r = test::overfit_classifier(m, b, 300, 3e-3, 0.05);
  EXPECT_LT(r.loss, 0.05) << "after " << r.steps << " steps (start " << r.first << ")";
}

// What `train.precision: bf16` does on CPU: the MLM loss and its gradients under bf16 autocast,
// close to fp32's (the MLM head once fed bf16 into a float LayerNorm, which libtorch 1.13 refuses).
TEST(Bert, MlmLossRunsUnderBf16Autocast) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  auto ids = torch::randint(5, 53, {2, 12}, torch::kLong);
  auto targets = torch::full({2, 12}, -100, torch::kLong);
  targets.index_put_({torch::indexing::Slice(), 3}, ids.select(1, 3));
  Batch batch{{{"input_ids", ids}, {"targets", targets}, {"attention_mask", torch::ones({2, 12}, torch::kLong)}}, 2};
  MaskedLmTask task;
  const double fp32 = task.loss_sum(m, batch).item<double>();
  torch::Tensor loss;
  {
    compat::AutocastGuard amp(torch::kCPU, torch::kBFloat16, /*enabled=*/true);
    loss = task.loss_sum(m, batch);
  }
  loss.backward();
  EXPECT_NEAR(loss.item<double>(), fp32, 0.05 * fp32);
  EXPECT_TRUE(m.cls->dense->weight.grad().defined());
}


// bf16 autocast (the CPU default where bf16 is fast): MLM and classification forward + backward.
// The classifier under bf16 autocast, with padding: logits close to fp32's, gradients finite
// (MlmLossRunsUnderBf16Autocast covers the MLM head).
TEST(Bert, ClassifierRunsUnderBf16AutocastWithPadding) {
  torch::manual_seed(0);
  BertImpl m(tiny());
  m.set_classes({"a", "b"}, true);
  m.eval();
  auto ids = torch::randint(5, 53, {2, 12}, torch::kLong);
  auto mask = torch::ones({2, 12}, torch::kLong);
  mask.index_put_({1, torch::indexing::Slice(8)}, 0);
  const TensorMap batch = {{"input_ids", ids}, {"attention_mask", mask}};
  const auto fp32 = m.forward(batch).at("logits");
  compat::AutocastGuard amp(torch::kCPU, torch::kBFloat16, true);
  auto logits = m.forward(batch).at("logits").to(torch::kFloat);
  EXPECT_LT((logits - fp32).abs().max().item<double>(), 0.05);  // bf16: 8 mantissa bits
  torch::nn::functional::cross_entropy(logits, torch::tensor({0, 1}, torch::kLong)).backward();
  for (const auto& p : m.parameters()) {
    if (p.grad().defined()) {
      EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
    }
  }
}

TEST(Bert, TokenTypesBeyondTypeVocabSizeAreAUserError) {
  BertConfig c = tiny();
  c.type_vocab_size = 1;
  BertImpl m(c);
  auto ids = torch::randint(5, 53, {1, 6}, torch::kLong);
  auto types = torch::tensor({{0, 0, 0, 1, 1, 1}}, torch::kLong);
  try {
    m.forward({{"input_ids", ids}, {"token_type_ids", types}});
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("type_vocab_size 1"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(m.forward({{"input_ids", ids}, {"token_type_ids", torch::zeros({1, 6}, torch::kLong)}}));
}


// The masked token can only be known from its neighbour: sequences of pairs "a a b b c c d d",
// one token masked. Attention must learn to look at the position next door (a unigram model
// scores 1/48; averaging the visible tokens about 1/7).
TEST(Bert, LearnsToReadTheContextOfAMaskedToken) {
  torch::manual_seed(0);
  BertConfig c = tiny();
  BertImpl m(c);
  MaskedLmTask task;
  AdamW opt(default_param_groups(m, 0.0, [](const std::string&) { return 1.0; }), 0.9, 0.999, 1e-8);
  auto make = [&](int64_t B) {
    auto pairs = torch::randint(5, 53, {B, 4}, torch::kLong);  // (B, 4)
    auto ids = pairs.repeat_interleave(2, 1);                  // (B, 8): a a b b c c d d
    auto targets = torch::full({B, 8}, -100, torch::kLong);
    auto masked = ids.clone();
    auto pick = torch::randint(0, 8, {B}, torch::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t t = pick[b].item<int64_t>();
      targets.index_put_({b, t}, ids.index({b, t}));
      masked.index_put_({b, t}, 4);  // [MASK]
    }
    return Batch{{{"input_ids", masked}, {"targets", targets}}, B};
  };
  for (int s = 0; s < 1200; ++s) {
    Batch b = make(32);
    auto l = task.loss_sum(m, b) / 32.0;
    l.backward();
    opt.step(1e-3);  // post-LN: at 5e-3 this stays on the unigram plateau
    opt.zero_grad();
  }
  m.eval();
  auto acc = task.new_eval();
  torch::NoGradGuard ng;
  acc->add(m, make(256));
  EXPECT_GT(acc->result()["accuracy"].get<double>(), 0.9) << acc->result().dump();
}

}  // namespace
}  // namespace ptft
