// The model test suite every registered family passes without writing it again: each test runs
// once per entry of model_families(), on the family's tiny_architecture and example_batch.
//   - config.json round trip: the model rebuilt from its config.json has the same config and names
//   - save -> load: a checkpoint written and read back gives bit-identical tensors and outputs
//   - overfit one batch: AdamW on one example batch lowers the default task's loss to < 1/2
//   - bf16 autocast: the loss is finite and within 10 % of fp32; what fp32 trains gets finite gradients
//   - param_place covers every parameter (blocks within num_blocks(), each block non-empty)
//   - a causal LM's bf16 decode weights (hold_decode_weights_bf16) give its logits
//   - foreign formats: export -> import gives bit-identical tensors and outputs
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "../common/temp_dir.h"
#include "ptft/core/compat.h"
#include "ptft/core/config.h"
#include "ptft/models/causal_lm.h"
#include "ptft/models/model_files.h"
#include "ptft/nn/bf16_gemv.h"
#include "ptft/nn/linear.h"
#include "ptft/train/optimizer.h"
#include "ptft/train/task.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {

ModelPtr tiny_model(const ModelFamily& f) {
  torch::manual_seed(7);
  const config::Document doc =
      config::Document::from_string("model: " + f.tiny_architecture + "\n", f.name + " tiny_architecture");
  config::Document with_family = doc;
  with_family.set("model.family=" + f.name);
  ModelPtr m = create_model(with_family, "model");
  m->eval();  // dropout off: outputs are comparable
  return m;
}

// The sum of the default task's per-unit losses on `batch`.
torch::Tensor task_loss(const ModelFamily& f, ModelImpl& m, const TensorMap& batch) {
  const TaskPtr task = create_task(f.default_task, f.name + " default task");
  return task->loss_sum(m, Batch{batch, 1});
}

void expect_same_tensors(const TensorMap& a, const TensorMap& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << what << ": " << name;
    EXPECT_TRUE(t.sizes().equals(b.at(name).sizes()) && torch::equal(t, b.at(name))) << what << ": " << name;
  }
}

void expect_same_outputs(ModelImpl& a, ModelImpl& b, const TensorMap& batch, const std::string& what) {
  torch::NoGradGuard ng;
  a.eval();
  b.eval();
  const TensorMap oa = a.forward(batch), ob = b.forward(batch);
  for (const auto& [name, t] : oa) EXPECT_TRUE(torch::equal(t, ob.at(name))) << what << ": output " << name;
}

class FamilySuite : public ::testing::TestWithParam<std::string> {
 protected:
  const ModelFamily& family() const { return find_model_family(GetParam(), "test"); }
};

TEST_P(FamilySuite, DeclaresWhatTheSuiteNeeds) {
  EXPECT_FALSE(family().tiny_architecture.empty());
  EXPECT_TRUE(static_cast<bool>(family().example_batch));
  EXPECT_NO_THROW(create_task(family().default_task, "test"));
}

TEST_P(FamilySuite, ConfigJsonRoundTrips) {
  ModelPtr m = tiny_model(family());
  const nlohmann::json j = m->config_json();
  EXPECT_EQ(j.at("ptft").at("family"), family().name);
  ModelPtr back = model_from_config_json(j, "config.json");
  EXPECT_EQ(back->config_json(), j);
  EXPECT_EQ(back->family(), family().name);
  std::map<std::string, std::vector<int64_t>> sa, sb;
  for (const auto& [n, t] : state_dict(*m)) sa[n] = t.sizes().vec();
  for (const auto& [n, t] : state_dict(*back)) sb[n] = t.sizes().vec();
  EXPECT_EQ(sa, sb);
}

TEST_P(FamilySuite, SaveThenLoadIsBitIdentical) {
  test::TempDir tmp("suite_" + family().name);
  ModelPtr m = tiny_model(family());
  Checkpoint c;
  c.config = m->config_json();
  c.model = state_dict(*m);
  write_checkpoint(tmp.path + "/ckpt", c);
  ModelPtr back = model_from_checkpoint(read_checkpoint(tmp.path + "/ckpt", false));
  expect_same_tensors(state_dict(*m), state_dict(*back), "reloaded");
  expect_same_outputs(*m, *back, family().example_batch(*m, 2, 1), "reloaded");
}

TEST_P(FamilySuite, OverfitsOneBatch) {
  ModelPtr m = tiny_model(family());
  m->train();
  const TensorMap batch = family().example_batch(*m, 4, 2);
  AdamW opt(default_param_groups(*m, 0.0, [](const std::string&) { return 1.0; }), 0.9, 0.999, 1e-8);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    torch::Tensor l = task_loss(family(), *m, batch);
    last = l.item<double>();
    if (step == 0) first = last;
    l.backward();
    opt.step(1e-2);
    opt.zero_grad();
  }
  EXPECT_LT(last, first / 2) << family().name << ": loss " << first << " -> " << last << " in 60 steps";
}

TEST_P(FamilySuite, TrainsUnderBf16Autocast) {
  ModelPtr m = tiny_model(family());
  const TensorMap batch = family().example_batch(*m, 2, 3);
  torch::Tensor fp32 = task_loss(family(), *m, batch);
  fp32.backward();
  std::set<std::string> trained;  // what fp32 gives a gradient (a masked LM's pooler gets none)
  for (const auto& p : m->named_parameters())
    if (p.value().grad().defined()) trained.insert(p.key());
  m->zero_grad();
  torch::Tensor l;
  {
    compat::AutocastGuard guard(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
    l = task_loss(family(), *m, batch);
  }
  l.backward();
  ASSERT_TRUE(std::isfinite(l.item<double>()));
  EXPECT_NEAR(l.item<double>(), fp32.item<double>(), 0.1 * std::abs(fp32.item<double>()) + 1e-3);
  EXPECT_FALSE(trained.empty());
  for (const auto& name : trained) {
    const torch::Tensor g = m->named_parameters()[name].grad();
    EXPECT_TRUE(g.defined() && torch::isfinite(g).all().item<bool>()) << family().name << ": " << name;
  }
}

// A tied input embedding (nn/tied_embedding.h) asks for a sparse lookup gradient, which autograd
// adds into the output layer's dense one: every parameter's gradient is dense and equal (1e-6) to
// the one a dense lookup gives; an embedding that is not an output layer asks for a dense one.
TEST_P(FamilySuite, TiedEmbeddingGradientIsDenseAndEqualsADenseLookups) {
  ModelPtr m = tiny_model(family());
  const TensorMap batch = family().example_batch(*m, 2, 5);
  auto grads = [&] {
    m->zero_grad();
    task_loss(family(), *m, batch).backward();
    TensorMap g;
    for (const auto& p : m->named_parameters())
      if (p.value().grad().defined()) g[p.key()] = p.value().grad().clone();
    return g;
  };
  const TensorMap got = grads();
  for (const auto& mod : m->named_modules())
    if (auto* e = dynamic_cast<torch::nn::EmbeddingImpl*>(mod.value().get())) {
      const bool tied = m->param_place(mod.key() + ".weight").tied_head;
      EXPECT_EQ(e->options.sparse(), tied) << family().name << ": " << mod.key();
      e->options.sparse(false);
    }
  const TensorMap want = grads();
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, g] : got) {
    EXPECT_FALSE(g.is_sparse()) << family().name << ": " << name;
    EXPECT_TRUE(torch::allclose(g.to_dense(), want.at(name), 1e-6, 1e-6)) << family().name << ": " << name;
  }
}

// hold_decode_weights_bf16: the projections become bf16 (float32 freed). With weights already
// bf16-representable, a decode step gives the float32 model's logits up to summation order (1e-4)
// where its kernel multiplies float32 activations, within bf16 rounding (5e-2 on logits ~1) where
// it rounds them to bf16 (avx512_bf16), as a prompt's bf16 GEMMs do.
TEST_P(FamilySuite, CausalLmDecodesWithBf16WeightsAsWithTheRoundedWeights) {
  ModelPtr m = tiny_model(family());
  auto* lm = dynamic_cast<CausalLm*>(m.get());
  if (lm == nullptr) GTEST_SKIP() << family().name << " does not write text";
  torch::NoGradGuard ng;
  for (auto& p : m->parameters())
    if (p.dim() == 2) p.copy_(p.to(torch::kBFloat16).to(torch::kFloat32));
  const torch::Tensor ids = family().example_batch(*m, 1, 4).at("input_ids").slice(1, 0, 6);  // (1,6)
  std::vector<nn::KvCache> c1, c2, c3;
  lm->next_logits(ids.slice(1, 0, 5), &c1);
  lm->next_logits(ids.slice(1, 0, 5), &c2);  // the prompt in float32
  const torch::Tensor want = lm->next_logits(ids.slice(1, 5, 6), &c1);  // (1,V)
  lm->hold_decode_weights_bf16();
  const torch::Tensor got = lm->next_logits(ids.slice(1, 5, 6), &c2);
  const double tol = nn::bf16_gemv_rounds_x() ? 5e-2 : 1e-4;
  EXPECT_TRUE(torch::allclose(got, want, tol, tol / 10)) << (got - want).abs().max();
  lm->next_logits(ids.slice(1, 0, 5), &c3);  // the prompt through the bf16 weights
  const torch::Tensor prompted = lm->next_logits(ids.slice(1, 5, 6), &c3);
  EXPECT_TRUE(torch::allclose(prompted, want, 5e-2, 5e-2)) << (prompted - want).abs().max();
  int held = 0;
  for (const auto& mod : m->modules())
    if (auto* linear = dynamic_cast<nn::LinearImpl*>(mod.get())) {
      held += linear->weight_bf16.defined();
      EXPECT_EQ(linear->weight.numel(), 0);  // the float32 copy is freed
    }
  EXPECT_GT(held, 0);
  torch::GradMode::set_enabled(true);
  EXPECT_THROW(lm->next_logits(ids.slice(1, 5, 6), &c3), Error);  // no training with bf16 decode weights
  torch::GradMode::set_enabled(false);
}

TEST_P(FamilySuite, ParamPlaceCoversEveryParameter) {
  ModelPtr m = tiny_model(family());
  std::set<int64_t> blocks;
  for (const auto& p : m->named_parameters()) {
    const ParamPlace place = m->param_place(p.key());
    if (place.kind == ParamPlace::kBlock) {
      EXPECT_GE(place.block, 0) << p.key();
      EXPECT_LT(place.block, m->num_blocks()) << p.key();
      blocks.insert(place.block);
    } else {
      EXPECT_EQ(place.block, -1) << p.key();
    }
  }
  EXPECT_EQ(static_cast<int64_t>(blocks.size()), m->num_blocks()) << "a block without parameters";
}

TEST_P(FamilySuite, ForeignFormatsRoundTrip) {
  for (const auto& format : family().formats) {
    SCOPED_TRACE(format.name);
    test::TempDir tmp("suite_" + family().name + "_" + format.name);
    ModelPtr m = tiny_model(family());
    export_model(*m, nullptr, format.name, tmp.path + "/out");
    const std::string path = format.reads_bare_weights ? tmp.path + "/out/model.safetensors" : tmp.path + "/out";
    ASSERT_TRUE(is_model_path(path));
    Checkpoint c = read_checkpoint(path, false);
    EXPECT_EQ(c.config.at("ptft").at("family"), family().name);
    ModelPtr back = model_from_checkpoint(c);
    expect_same_tensors(state_dict(*m), state_dict(*back), format.name + " round trip");
    expect_same_outputs(*m, *back, family().example_batch(*m, 2, 4), format.name + " round trip");
  }
}

std::vector<std::string> family_names() {
  std::vector<std::string> names;
  for (const auto& f : model_families()) names.push_back(f.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registry, FamilySuite, ::testing::ValuesIn(family_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace ptft
