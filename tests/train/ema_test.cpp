// Tests for ModelEma / EmaSwap (ptft/train/ema.h) on a Linear + BatchNorm module: the blend
// against hand-computed values (parameters and running stats), integer buffers copied, the
// warm-up ramp, swap in/out bit-exact (also on an exception), save/load round trip and its errors.
#include "ptft/train/ema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "ptft/core/error.h"

namespace ptft {
namespace {

struct Net : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
  Net() {
    fc = register_module("fc", torch::nn::Linear(3, 2));  // weight (2,3), bias (2)
    bn = register_module("bn", torch::nn::BatchNorm1d(2));  // running_mean/var (2), num_batches_tracked ()
  }
};

// Sets every floating-point tensor of `m` to `v` and num_batches_tracked to `n`.
void fill(Net& m, double v, int64_t n) {
  torch::NoGradGuard ng;
  for (auto& [name, t] : state_dict(m)) {
    if (t.is_floating_point()) t.fill_(v);
    else t.fill_(n);
  }
}

TEST(ModelEma, DecayRampsUpWithTau) {
  Net m;
  ModelEma ema(m, 0.9, 4.0);
  EXPECT_EQ(ema.updates(), 0);
  EXPECT_DOUBLE_EQ(ema.current_decay(), 0.0);
  EXPECT_DOUBLE_EQ(ema.decay_at(4), 0.9 * (1 - std::exp(-1.0)));
  EXPECT_NEAR(ema.decay_at(1000), 0.9, 1e-12);
}

TEST(ModelEma, UpdateBlendsParametersAndBuffersAndCopiesIntegerBuffers) {
  Net m;
  fill(m, 1.0, 0);
  ModelEma ema(m, 0.9, 2.0);  // average: 1.0 everywhere
  fill(m, 3.0, 5);
  ema.update(m);
  const double d1 = 0.9 * (1 - std::exp(-1.0 / 2.0));
  const double e1 = d1 * 1.0 + (1 - d1) * 3.0;
  fill(m, -1.0, 7);
  ema.update(m);
  const double d2 = 0.9 * (1 - std::exp(-2.0 / 2.0));
  const double e2 = d2 * e1 + (1 - d2) * -1.0;
  EXPECT_EQ(ema.updates(), 2);
  EXPECT_DOUBLE_EQ(ema.current_decay(), d2);
  const auto& s = ema.state();
  for (const char* name : {"fc.weight", "fc.bias", "bn.weight", "bn.running_mean", "bn.running_var"}) {
    ASSERT_TRUE(s.count(name)) << name;
    EXPECT_TRUE(torch::allclose(s.at(name), torch::full_like(s.at(name), e2), 1e-6, 1e-6))
        << name << ": " << s.at(name) << " expected " << e2;
  }
  EXPECT_EQ(s.at("bn.num_batches_tracked").item<int64_t>(), 7);  // copied, not averaged
  // The average is a copy: the model keeps its own values.
  EXPECT_EQ(m.fc->weight[0][0].item<float>(), -1.0f);
}

TEST(ModelEma, SwapPutsTheAverageInAndTheRawWeightsBackBitExact) {
  torch::manual_seed(3);
  Net m;
  ModelEma ema(m, 0.5, 1.0);
  {
    torch::NoGradGuard ng;
    m.fc->weight.add_(torch::randn({2, 3}));
    m.bn->running_mean.add_(1.0);
  }
  ema.update(m);
  const TensorMap raw = [&] {
    TensorMap c;
    for (auto& [k, v] : state_dict(m)) c[k] = v.clone();
    return c;
  }();
  ASSERT_FALSE(torch::equal(ema.state().at("fc.weight"), raw.at("fc.weight")));
  {
    EmaSwap in(ema, m);
    for (const auto& [k, v] : state_dict(m)) EXPECT_TRUE(torch::equal(v, ema.state().at(k))) << k;
  }
  for (const auto& [k, v] : state_dict(m)) EXPECT_TRUE(torch::equal(v, raw.at(k))) << k;
  // Parameters stay the same leaf tensors (an optimizer holding them keeps working).
  EXPECT_TRUE(m.fc->weight.requires_grad());
  // Left by an exception: the raw weights are back too.
  try {
    EmaSwap in(ema, m);
    throw std::runtime_error("evaluation failed");
  } catch (const std::runtime_error&) {
  }
  for (const auto& [k, v] : state_dict(m)) EXPECT_TRUE(torch::equal(v, raw.at(k))) << k;
}

TEST(ModelEma, LoadRestoresTheAverageAndUpdateCount) {
  torch::manual_seed(4);
  Net a;
  ModelEma ea(a, 0.9, 3.0);
  for (int i = 0; i < 3; ++i) {
    {
      torch::NoGradGuard ng;
      a.fc->weight.add_(0.1);
    }
    ea.update(a);
  }
  Net b;
  ModelEma eb(b, 0.9, 3.0);
  eb.load(ea.state(), ea.updates(), "ckpt/model.safetensors");
  EXPECT_EQ(eb.updates(), 3);
  for (const auto& [k, v] : ea.state()) EXPECT_TRUE(torch::equal(v, eb.state().at(k))) << k;
  // The next update is the same in both.
  {
    torch::NoGradGuard ng;
    for (auto& [k, v] : state_dict(b)) v.copy_(state_dict(a).at(k));
  }
  ea.update(a);
  eb.update(b);
  for (const auto& [k, v] : ea.state()) EXPECT_TRUE(torch::equal(v, eb.state().at(k))) << k;
}

TEST(ModelEma, LoadOfAnotherModelsTensorsNamesTheFileAndTheNames) {
  Net m;
  ModelEma ema(m, 0.9, 3.0);
  TensorMap saved = ema.state();
  saved.erase("fc.bias");
  saved["fc.weight"] = torch::zeros({4, 3});
  saved["head.weight"] = torch::zeros({1});
  try {
    ema.load(saved, 1, "run/checkpoints/last/model.safetensors");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string m = e.message();
    EXPECT_NE(m.find("run/checkpoints/last/model.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("missing fc.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected head.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("other shape fc.weight"), std::string::npos) << m;
    EXPECT_NE(e.hint().find("--from"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace ptft
