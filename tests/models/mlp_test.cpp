// Tests for ptft/models/mlp.h: shapes, config round trips, save -> load of weights, an
// overfit-one-batch check and MlpConfig::validate's messages.
#include "ptft/models/mlp.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/io/checkpoint.h"
#include "ptft/train/classification_task.h"
#include "ptft/train/optimizer.h"
#include "overfit.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

MlpConfig small() {
  MlpConfig c;
  c.in_features = 3;
  c.hidden = {8, 6};
  c.num_classes = 4;
  return c;
}

TEST(Mlp, Shapes) {
  torch::manual_seed(0);
  MlpImpl m(small());
  auto out = m.forward({{"x", torch::randn({5, 3})}});
  ASSERT_TRUE(out.count("logits"));
  EXPECT_EQ(out.at("logits").sizes(), (std::vector<int64_t>{5, 4}));
  // (in, h0), (h0, h1), (h1, C) as Linear weights (out, in).
  TensorMap sd = state_dict(m);
  EXPECT_EQ(sd.size(), 6u);
  EXPECT_EQ(sd.at("layers.0.weight").sizes(), (std::vector<int64_t>{8, 3}));
  EXPECT_EQ(sd.at("layers.1.weight").sizes(), (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(sd.at("head.weight").sizes(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(sd.at("head.bias").sizes(), (std::vector<int64_t>{4}));
  EXPECT_EQ(count_parameters(m, false), 8 * 3 + 8 + 6 * 8 + 6 + 4 * 6 + 4);
  EXPECT_DOUBLE_EQ(m.flops_per_unit(), 2.0 * (3 * 8 + 8 * 6 + 6 * 4));
  EXPECT_EQ(m.family(), "mlp");
}

TEST(Mlp, NoHiddenLayersIsLinear) {
  MlpConfig c = small();
  c.hidden = {};
  MlpImpl m(c);
  auto x = torch::randn({2, 3});
  auto expected = torch::nn::functional::linear(x, state_dict(m).at("head.weight"), state_dict(m).at("head.bias"));
  EXPECT_TRUE(torch::allclose(m.forward({{"x", x}}).at("logits"), expected));
}

TEST(Mlp, MissingInputIsInternalError) {
  MlpImpl m(small());
  EXPECT_THROW(m.forward({{"pixels", torch::zeros({1, 3})}}), InternalError);
}

TEST(Mlp, ConfigJsonRoundTripGivesSameArchitecture) {
  MlpConfig c = small();
  c.dropout = 0.25;
  MlpImpl m(c);
  ModelPtr m2 = model_from_config_json(m.config_json(), "ckpt/config.json");
  ASSERT_EQ(m2->family(), "mlp");
  auto* mlp2 = dynamic_cast<MlpImpl*>(m2.get());
  ASSERT_NE(mlp2, nullptr);
  EXPECT_EQ(mlp2->config().in_features, 3);
  EXPECT_EQ(mlp2->config().hidden, (std::vector<int64_t>{8, 6}));
  EXPECT_EQ(mlp2->config().num_classes, 4);
  EXPECT_EQ(mlp2->config().dropout, 0.25);
  EXPECT_EQ(m2->config_json(), m.config_json());
  TensorMap a = state_dict(m), b = state_dict(*m2);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) EXPECT_EQ(b.at(k).sizes(), v.sizes()) << k;
}

TEST(Mlp, ConfigYamlBindsBackToTheSameConfig) {
  MlpConfig c = small();
  MlpImpl m(c);
  YAML::Node section = m.config_yaml();
  EXPECT_EQ(section["family"].as<std::string>(), "mlp");
  YAML::Node root;
  root["model"] = section;
  auto doc = config::Document::from_string(config::emit(root), "resolved.yaml");
  ModelPtr m2 = create_model(doc, "model");
  EXPECT_EQ(m2->config_json(), m.config_json());
}

TEST(Mlp, ConfigJsonErrors) {
  auto j = MlpImpl(small()).config_json();
  j["num_classes"] = 1;
  try {
    model_from_config_json(j, "ckpt/config.json");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("ckpt/config.json"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("model.num_classes must be >= 2, got 1"), std::string::npos) << e.message();
  }
  j = MlpImpl(small()).config_json();
  j.erase("hidden");
  try {
    model_from_config_json(j, "ckpt/config.json");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("ckpt/config.json"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("hidden"), std::string::npos) << e.message();
  }
  try {
    model_from_config_json({{"in_features", 2}}, "x/config.json");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("names no model family"), std::string::npos) << e.message();
  }
  try {
    model_from_config_json({{"model_type", "mpl"}}, "x/config.json");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("unknown model family 'mpl'"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("did you mean 'mlp'"), std::string::npos) << e.hint();
  }
}

TEST(Mlp, SaveLoadRoundTripGivesIdenticalLogits) {
  const std::string dir = ::testing::TempDir() + "ptft_mlp_ckpt_" + std::to_string(::getpid());
  sfs::remove_all(dir);
  torch::manual_seed(1);
  MlpImpl m(small());
  Checkpoint c;
  c.config = m.config_json();
  c.model = state_dict(m);
  write_checkpoint(dir, c);

  torch::manual_seed(2);  // a different init: the weights must come from the file
  Checkpoint r = read_ptft_checkpoint(dir, false);
  ModelPtr m2 = model_from_config_json(r.config, dir + "/config.json");
  load_into(*m2, r.model, dir + "/model.safetensors");
  auto x = torch::randn({16, 3});
  EXPECT_TRUE(torch::equal(m.forward({{"x", x}}).at("logits"), m2->forward({{"x", x}}).at("logits")));
  sfs::remove_all(dir);
}

TEST(Mlp, OverfitsOneBatch) {
  // 8 random points with random labels: memorisable only by fitting. Reference: mean
  // cross-entropy below 0.05 within 300 AdamW steps (lr 1e-2).
  torch::manual_seed(3);
  MlpConfig c;
  c.in_features = 2;
  c.hidden = {64, 64};
  c.num_classes = 3;
  auto m = std::make_shared<MlpImpl>(c);
  auto gen = at::detail::createCPUGenerator(4);
  Batch b{{{"x", torch::randn({8, 2}, gen)}, {"y", torch::randint(3, {8}, gen, torch::kLong)}}, 8};
  const test::OverfitResult r = test::overfit_classifier(*m, b, 300, 1e-2, 0.05);
  EXPECT_LT(r.loss, 0.05) << "after " << r.steps << " steps (start " << r.first << ")";
  EXPECT_GT(r.first, 0.5);  // it really had to learn
  ClassificationTask task;
  auto acc = task.new_eval();
  acc->add(*m, b);
  EXPECT_EQ(acc->result().at("accuracy").get<double>(), 1.0);
}

TEST(Mlp, SetClassesNamesReplacesTheHeadAndRoundTrips) {
  torch::manual_seed(5);
  MlpImpl m(small());
  EXPECT_EQ(m.class_names(), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(m.config_json()["id2label"]["3"], "3");
  const auto head = state_dict(m).at("head.weight").clone();
  const auto hidden = state_dict(m).at("layers.0.weight").clone();

  m.set_classes({"a", "b", "c", "d"}, /*new_head=*/false);  // same count: names only
  EXPECT_TRUE(torch::equal(state_dict(m).at("head.weight"), head));
  m.set_classes({"a", "b", "c", "d"}, /*new_head=*/true);  // a fresh head
  EXPECT_FALSE(torch::equal(state_dict(m).at("head.weight"), head));
  m.set_classes({"yes", "no"}, /*new_head=*/false);  // another count: a head with 2 outputs
  EXPECT_EQ(m.config().num_classes, 2);
  EXPECT_EQ(state_dict(m).at("head.weight").sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(m.forward({{"x", torch::randn({3, 3})}}).at("logits").sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(torch::equal(state_dict(m).at("layers.0.weight"), hidden));

  const auto j = m.config_json();
  EXPECT_EQ(j["num_classes"], 2);
  EXPECT_EQ(j["id2label"], nlohmann::json({{"0", "yes"}, {"1", "no"}}));
  EXPECT_EQ(j["label2id"], nlohmann::json({{"yes", 0}, {"no", 1}}));
  ModelPtr m2 = model_from_config_json(j, "ckpt/config.json");
  EXPECT_EQ(m2->class_names(), (std::vector<std::string>{"yes", "no"}));

  // Older checkpoints without id2label get the default names; a count that disagrees is an error.
  auto old = j;
  old.erase("id2label");
  old.erase("label2id");
  EXPECT_EQ(model_from_config_json(old, "ckpt/config.json")->class_names(), (std::vector<std::string>{"0", "1"}));
  auto bad = j;
  bad["num_classes"] = 3;
  try {
    model_from_config_json(bad, "ckpt/config.json");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("\"id2label\" names 2 classes but the model has 3 outputs"), std::string::npos)
        << e.message();
  }
  EXPECT_THROW(m.set_classes({"only"}, false), UserError);
  EXPECT_THROW(m.set_classes({"a", ""}, false), UserError);
}

TEST(ModelImpl, NonClassifiersRefuseSetClasses) {
  struct NotAClassifier : ModelImpl {
    std::string family() const override { return "toy"; }
    nlohmann::json config_json() const override { return {}; }
    YAML::Node config_yaml() const override { return {}; }
    TensorMap forward(const TensorMap&) override { return {}; }
  } toy;
  EXPECT_TRUE(toy.class_names().empty());
  try {
    toy.set_classes({"a", "b"}, true);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("a 'toy' model has no classifier head"), std::string::npos) << e.message();
  }
}

TEST(MlpConfig, ValidateNamesKeyAndValue) {
  struct Case {
    std::function<void(MlpConfig&)> edit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](MlpConfig& c) { c.in_features = 0; }, "model.in_features must be > 0, got 0"},
      {[](MlpConfig& c) { c.num_classes = 1; }, "model.num_classes must be >= 2, got 1"},
      {[](MlpConfig& c) { c.hidden = {16, 0}; }, "model.hidden: every width must be > 0, got 0"},
      {[](MlpConfig& c) { c.hidden = {-3}; }, "model.hidden: every width must be > 0, got -3"},
      {[](MlpConfig& c) { c.dropout = 1.0; }, "model.dropout must be in [0, 1), got 1"},
      {[](MlpConfig& c) { c.dropout = -0.1; }, "model.dropout must be in [0, 1), got -0.1"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.expected);
    MlpConfig c = small();
    tc.edit(c);
    try {
      c.validate();
      FAIL() << "expected UserError";
    } catch (const UserError& e) {
      EXPECT_NE(e.message().find(tc.expected), std::string::npos) << e.message();
    }
    EXPECT_THROW(MlpImpl{c}, UserError);  // the constructor validates too
  }
  EXPECT_NO_THROW(small().validate());
}

TEST(MlpConfig, RunConfigSectionUnknownKeyIsUserError) {
  auto doc = config::Document::from_string("model: {family: mlp, hiden: [8]}\n", "run.yaml");
  try {
    create_model(doc, "model");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("hiden"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace ptft
