// Tests for ptft/train/optimizer.h: AdamW (fused fp32 CPU path and tensor-op path) and Sgd
// against libtorch's own torch::optim::AdamW / SGD, state save/load, and the default grouping
// of parameters into decay / no-decay.
//
// Reference: libtorch 1.13's optimizers run on clones of the same parameters with the same
// gradients. Tolerances: fp32 |ours - torch| <= 1e-6 * max|torch| + 1e-7 per tensor after 20
// steps (the fused kernel uses lerp and a reciprocal where torch uses mul/add and a division,
// so the last bit may differ; measured: 1 ulp); fp64 1e-12 relative (measured ~1e-16); SGD
// 1e-6 relative (measured: bit-identical).
#include "ptft/train/optimizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/model.h"

namespace ptft {
namespace {

constexpr int kSteps = 20;

// |a - b| relative to the largest |b| of the tensor.
double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// A parameter of the test problem: its shape, group, and when it gets a gradient.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  int group;              // index into the groups below
  bool transposed_grad;   // gradient given as a non-contiguous (transposed) view
  int skip_every;         // 0: a gradient every step; k: no gradient on steps divisible by k
};

// Groups with distinct LR multipliers and weight decays (the decay uses the group's LR).
struct GroupSpec {
  std::string name;
  double lr_mult, weight_decay;
};

const std::vector<GroupSpec> kGroups = {{"decay@lr_x2", 2.0, 0.1}, {"decay@lr_x0.5", 0.5, 0.03}, {"no_decay", 1.0, 0.0}};
const std::vector<ParamSpec> kParams = {
    {"w", {4, 5}, 0, /*transposed_grad=*/true, 0},
    {"big", {40000}, 0, false, 0},           // > 16384: several parallel_for chunks
    {"bias", {7}, 1, false, 0},
    {"cube", {3, 2, 6}, 1, false, 3},        // no gradient on steps 3, 6, 9, ...
    {"sometimes", {5, 3}, 2, false, 2},      // no gradient on even steps
};

double base_lr(int step) { return 1e-2 * (1.0 + 0.05 * step); }  // changes every step

// The same random initial values and per-step gradients for both optimizers.
struct Problem {
  std::vector<torch::Tensor> init;                  // [param]
  std::vector<std::vector<torch::Tensor>> grads;    // [step][param], undefined = no grad
  explicit Problem(torch::ScalarType dtype) {
    auto gen = at::detail::createCPUGenerator(42);
    for (const auto& p : kParams) init.push_back(torch::randn(p.shape, gen, dtype));
    for (int s = 1; s <= kSteps; ++s) {
      std::vector<torch::Tensor> g;
      for (const auto& p : kParams) {
        if (p.skip_every > 0 && s % p.skip_every == 0) {
          g.emplace_back();
        } else if (p.transposed_grad) {
          std::vector<int64_t> rev(p.shape.rbegin(), p.shape.rend());
          g.push_back(torch::randn(rev, gen, dtype).t());  // non-contiguous view of shape p.shape
        } else {
          g.push_back(torch::randn(p.shape, gen, dtype));
        }
      }
      grads.push_back(std::move(g));
    }
  }
};

torch::Tensor leaf(const torch::Tensor& init) { return init.clone().set_requires_grad(true); }

void set_grads(std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& grads) {
  for (size_t i = 0; i < params.size(); ++i)
    params[i].mutable_grad() = grads[i].defined() ? grads[i].clone() : torch::Tensor();
}

std::vector<ParamGroup> make_groups(std::vector<torch::Tensor>& params) {
  std::vector<ParamGroup> groups;
  for (const auto& g : kGroups) {
    ParamGroup pg;
    pg.name = g.name;
    pg.lr_mult = g.lr_mult;
    pg.weight_decay = g.weight_decay;
    groups.push_back(pg);
  }
  for (size_t i = 0; i < kParams.size(); ++i) {
    groups[kParams[i].group].names.push_back(kParams[i].name);
    groups[kParams[i].group].params.push_back(params[i]);
  }
  return groups;
}

// Runs ptft::AdamW and torch::optim::AdamW (one per group, LR set every step) side by side.
// Returns (ours, torch) final parameters.
std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> run_adamw(torch::ScalarType dtype) {
  const double b1 = 0.9, b2 = 0.95, eps = 1e-8;
  Problem prob(dtype);
  std::vector<torch::Tensor> ours, ref;
  for (const auto& t : prob.init) {
    ours.push_back(leaf(t));
    ref.push_back(leaf(t));
  }
  AdamW opt(make_groups(ours), b1, b2, eps);
  std::vector<std::unique_ptr<torch::optim::AdamW>> torch_opts;
  for (size_t gi = 0; gi < kGroups.size(); ++gi) {
    std::vector<torch::Tensor> ps;
    for (size_t i = 0; i < kParams.size(); ++i)
      if (kParams[i].group == static_cast<int>(gi)) ps.push_back(ref[i]);
    torch_opts.push_back(std::make_unique<torch::optim::AdamW>(
        ps, torch::optim::AdamWOptions(1.0).betas({b1, b2}).eps(eps).weight_decay(kGroups[gi].weight_decay)));
  }
  for (int s = 1; s <= kSteps; ++s) {
    set_grads(ours, prob.grads[s - 1]);
    set_grads(ref, prob.grads[s - 1]);
    opt.step(base_lr(s));
    for (size_t gi = 0; gi < kGroups.size(); ++gi) {
      auto& o = static_cast<torch::optim::AdamWOptions&>(torch_opts[gi]->param_groups()[0].options());
      o.lr(base_lr(s) * kGroups[gi].lr_mult);
      torch_opts[gi]->step();
    }
  }
  return {ours, ref};
}

TEST(AdamW, FusedFp32MatchesTorchAdamW) {
  auto [ours, ref] = run_adamw(torch::kFloat);
  Problem prob(torch::kFloat);
  for (size_t i = 0; i < kParams.size(); ++i) {
    SCOPED_TRACE(kParams[i].name);
    const double scale = ref[i].abs().max().item<double>();
    EXPECT_LE(max_abs_diff(ours[i], ref[i]), 1e-6 * scale + 1e-7);
    // The parameters did move: the comparison is not between two untouched copies.
    EXPECT_GT(max_abs_diff(ref[i], prob.init[i]), 1e-3);
  }
}

TEST(AdamW, TensorOpPathFp64MatchesTorchAdamW) {
  // Double parameters do not take the fused fp32 kernel.
  auto [ours, ref] = run_adamw(torch::kDouble);
  for (size_t i = 0; i < kParams.size(); ++i) {
    SCOPED_TRACE(kParams[i].name);
    EXPECT_LE(max_rel_diff(ours[i], ref[i]), 1e-12);
  }
}

// ptft::AdamW on `ours` and torch's on `ref` (the same values, maybe another layout) for kSteps
// steps of the same random gradients; as_ours lays a gradient out as `ours` gets it. Returns
// ptft's optimizer (its state, for the caller to check).
std::unique_ptr<AdamW> step_both(const torch::Tensor& ours, const torch::Tensor& ref, const std::string& name,
                                 const std::function<torch::Tensor(const torch::Tensor&)>& as_ours, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  ParamGroup g;
  g.name = "decay";
  g.names = {name};
  g.params = {ours};
  g.weight_decay = 0.05;
  auto opt = std::make_unique<AdamW>(std::vector<ParamGroup>{g}, 0.9, 0.999, 1e-8);
  torch::optim::AdamW topt({ref}, torch::optim::AdamWOptions(1e-2).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.05));
  for (int s = 0; s < kSteps; ++s) {
    auto grad = torch::randn(ref.sizes(), gen);
    ours.mutable_grad() = as_ours(grad);
    ref.mutable_grad() = grad.clone();
    opt->step(1e-2);
    topt.step();
  }
  return opt;
}

TEST(AdamW, NonContiguousFp32ParameterMatchesTorchAdamW) {
  // A transposed fp32 parameter is dense: the fused kernel walks its memory, with the moments in
  // its layout and the (contiguous) gradient copied into it; element by element as torch's.
  auto base = torch::randn({6, 4}, at::detail::createCPUGenerator(3));
  auto ours = base.clone().t().set_requires_grad(true);  // (4, 6), strides (1, 4)
  auto ref = base.clone().t().set_requires_grad(true);
  ASSERT_FALSE(ours.is_contiguous());
  step_both(ours, ref, "p", [](const torch::Tensor& g) { return g.contiguous(); }, 4);
  EXPECT_LE(max_abs_diff(ours, ref), 1e-6 * ref.abs().max().item<double>() + 1e-7);
}

TEST(AdamW, ChannelsLastParameterMatchesTorchAdamWAndSavesRowMajorState) {
  // A convolution weight held channels-last (nn::hold_channels_last) with channels-last
  // gradients, as autograd gives them: the fused kernel; the saved moments are the same logical
  // tensors and load into an optimizer of a contiguous parameter.
  const auto cl = torch::MemoryFormat::ChannelsLast;
  auto base = torch::randn({8, 3, 3, 3}, at::detail::createCPUGenerator(5));
  auto ours = base.contiguous(cl).set_requires_grad(true);
  auto ref = base.clone().set_requires_grad(true);
  ASSERT_FALSE(ours.is_contiguous());
  auto opt = step_both(ours, ref, "conv.weight", [cl](const torch::Tensor& g) { return g.contiguous(cl); }, 6);
  EXPECT_TRUE(ours.is_contiguous(cl));
  EXPECT_LE(max_abs_diff(ours, ref), 1e-6 * ref.abs().max().item<double>() + 1e-7);
  EXPECT_GT(max_abs_diff(ours, base), 1e-3);

  const TensorMap state = opt->state();
  ParamGroup g;
  g.name = "decay";
  g.names = {"conv.weight"};
  g.params = {base.clone().set_requires_grad(true)};
  AdamW loaded({g}, 0.9, 0.999, 1e-8);
  loaded.load_state(state, "test");
  const TensorMap again = loaded.state();
  for (const char* k : {"conv.weight.exp_avg", "conv.weight.exp_avg_sq"}) {
    SCOPED_TRACE(k);
    EXPECT_TRUE(torch::equal(again.at(k), state.at(k)));
    EXPECT_GT(state.at(k).abs().max().item<double>(), 0.0);
  }
}

TEST(Sgd, MatchesTorchSgdWithMomentumNesterovAndDecay) {
  for (bool nesterov : {false, true}) {
    SCOPED_TRACE(nesterov ? "nesterov" : "heavy ball");
    const double momentum = 0.9;
    Problem prob(torch::kFloat);
    std::vector<torch::Tensor> ours, ref;
    for (const auto& t : prob.init) {
      ours.push_back(leaf(t));
      ref.push_back(leaf(t));
    }
    Sgd opt(make_groups(ours), momentum, nesterov);
    std::vector<std::unique_ptr<torch::optim::SGD>> torch_opts;
    for (size_t gi = 0; gi < kGroups.size(); ++gi) {
      std::vector<torch::Tensor> ps;
      for (size_t i = 0; i < kParams.size(); ++i)
        if (kParams[i].group == static_cast<int>(gi)) ps.push_back(ref[i]);
      torch_opts.push_back(std::make_unique<torch::optim::SGD>(
          ps, torch::optim::SGDOptions(1.0).momentum(momentum).nesterov(nesterov).weight_decay(
                  kGroups[gi].weight_decay)));
    }
    for (int s = 1; s <= kSteps; ++s) {
      set_grads(ours, prob.grads[s - 1]);
      set_grads(ref, prob.grads[s - 1]);
      opt.step(base_lr(s));
      for (size_t gi = 0; gi < kGroups.size(); ++gi) {
        auto& o = static_cast<torch::optim::SGDOptions&>(torch_opts[gi]->param_groups()[0].options());
        o.lr(base_lr(s) * kGroups[gi].lr_mult);
        torch_opts[gi]->step();
      }
    }
    for (size_t i = 0; i < kParams.size(); ++i) {
      SCOPED_TRACE(kParams[i].name);
      EXPECT_LE(max_rel_diff(ours[i], ref[i]), 1e-6);
      EXPECT_GT(max_abs_diff(ref[i], prob.init[i]), 1e-3);
    }
  }
}

TEST(Optimizer, ZeroGradClearsGradients) {
  auto p = torch::ones({3}).set_requires_grad(true);
  p.mutable_grad() = torch::ones({3});
  ParamGroup g;
  g.names = {"p"};
  g.params = {p};
  AdamW opt({g}, 0.9, 0.999, 1e-8);
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  opt.step(1.0);  // no gradient: the parameter is skipped, not updated with stale moments
  EXPECT_TRUE(torch::equal(p, torch::ones({3})));
  EXPECT_EQ(opt.state().at("p.step").item<int64_t>(), 0);
}

std::string temp_path(const std::string& stem) {
  static int counter = 0;
  return ::testing::TempDir() + "ptft_optimizer_" + stem + "_" + std::to_string(::getpid()) + "_" +
         std::to_string(counter++);
}

// Runs opt_a for 5 steps, copies its state (through an optimizer.safetensors file, as a
// checkpoint does) and its parameters into the second pair, then runs both 15 more steps:
// every parameter must stay bit-identical.
template <class MakeOpt>
void check_state_round_trip(MakeOpt make_opt) {
  Problem prob(torch::kFloat);
  std::vector<torch::Tensor> pa, pb;
  for (const auto& t : prob.init) {
    pa.push_back(leaf(t));
    pb.push_back(leaf(t * 3.0));  // different on purpose: everything must come from the copy
  }
  auto opt_a = make_opt(make_groups(pa));
  auto opt_b = make_opt(make_groups(pb));
  for (int s = 1; s <= 5; ++s) {
    set_grads(pa, prob.grads[s - 1]);
    opt_a->step(base_lr(s));
  }
  const std::string path = temp_path("state") + ".safetensors";
  save_tensors(path, opt_a->state());
  opt_b->load_state(load_tensors(path), path);
  std::filesystem::remove(path);
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < pa.size(); ++i) pb[i].copy_(pa[i]);
  }
  for (int s = 6; s <= kSteps; ++s) {
    set_grads(pa, prob.grads[s - 1]);
    set_grads(pb, prob.grads[s - 1]);
    opt_a->step(base_lr(s));
    opt_b->step(base_lr(s));
  }
  for (size_t i = 0; i < pa.size(); ++i) {
    SCOPED_TRACE(kParams[i].name);
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "max diff " << max_abs_diff(pa[i], pb[i]);
  }
  auto sa = opt_a->state(), sb = opt_b->state();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [k, v] : sa) EXPECT_TRUE(torch::equal(v, sb.at(k))) << k;
}

TEST(AdamW, StateRoundTripContinuesBitIdentically) {
  check_state_round_trip([](std::vector<ParamGroup> g) { return std::make_unique<AdamW>(std::move(g), 0.9, 0.95, 1e-8); });
}

// step(lr, grad_scale) is step(lr) on gradients multiplied by grad_scale first (clipping's
// coefficient, folded into the update): bit-identical, on the fused fp32 kernel, the tensor-op path
// (fp64) and SGD, and the gradients themselves are left as they were.
void check_grad_scale(torch::ScalarType dtype, const std::function<std::unique_ptr<Optimizer>(std::vector<ParamGroup>)>& make) {
  const double scale = 0.37;
  Problem prob(dtype);
  std::vector<torch::Tensor> a, b;
  for (const auto& t : prob.init) {
    a.push_back(leaf(t));
    b.push_back(leaf(t));
  }
  auto oa = make(make_groups(a)), ob = make(make_groups(b));
  for (int s = 1; s <= 5; ++s) {
    set_grads(a, prob.grads[s - 1]);
    set_grads(b, prob.grads[s - 1]);
    std::vector<torch::Tensor> given;
    for (auto& p : a) given.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    for (auto& p : b)
      if (p.grad().defined()) p.mutable_grad().mul_(scale);
    oa->step(base_lr(s), scale);
    ob->step(base_lr(s));
    for (size_t i = 0; i < a.size(); ++i) {
      if (given[i].defined()) {
        EXPECT_TRUE(torch::equal(a[i].grad(), given[i])) << kParams[i].name;
      }
    }
  }
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << kParams[i].name << ": " << max_abs_diff(a[i], b[i]);
    EXPECT_GT(max_abs_diff(a[i], prob.init[i]), 0) << kParams[i].name;
  }
}

TEST(AdamW, GradScaleEqualsScalingTheGradientsFirst) {
  auto make = [](std::vector<ParamGroup> g) { return std::make_unique<AdamW>(std::move(g), 0.9, 0.95, 1e-8); };
  check_grad_scale(torch::kFloat, make);
  check_grad_scale(torch::kDouble, make);
}

TEST(Sgd, GradScaleEqualsScalingTheGradientsFirst) {
  check_grad_scale(torch::kFloat, [](std::vector<ParamGroup> g) { return std::make_unique<Sgd>(std::move(g), 0.9, true); });
}

TEST(AdamW, SparseGradientIsAnInternalError) {
  auto p = torch::zeros({4, 3}).set_requires_grad(true);
  p.mutable_grad() = torch::ones({4, 3}).to_sparse();
  ParamGroup g;
  g.names = {"wte"};
  g.params = {p};
  AdamW opt({g}, 0.9, 0.999, 1e-8);
  try {
    opt.step(1e-3);
    FAIL() << "no error";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("'wte' has a sparse gradient"), std::string::npos) << e.what();
  }
}

TEST(Sgd, StateRoundTripContinuesBitIdentically) {
  check_state_round_trip([](std::vector<ParamGroup> g) { return std::make_unique<Sgd>(std::move(g), 0.9, true); });
}

TEST(AdamW, StateNamesEveryParameterByName) {
  Problem prob(torch::kFloat);
  std::vector<torch::Tensor> ps;
  for (const auto& t : prob.init) ps.push_back(leaf(t));
  AdamW opt(make_groups(ps), 0.9, 0.95, 1e-8);
  set_grads(ps, prob.grads[2]);  // step 3: "cube" has no gradient
  opt.step(1e-3);
  auto st = opt.state();
  EXPECT_EQ(st.size(), 3 * kParams.size());
  for (const auto& p : kParams) {
    ASSERT_TRUE(st.count(p.name + ".exp_avg")) << p.name;
    EXPECT_EQ(st.at(p.name + ".exp_avg").sizes().vec(), p.shape);
    EXPECT_EQ(st.at(p.name + ".exp_avg_sq").sizes().vec(), p.shape);
    EXPECT_EQ(st.at(p.name + ".step").item<int64_t>(), p.name == "cube" ? 0 : 1);
  }
}

TEST(AdamW, LoadStateMissingKeyNamesTheKey) {
  Problem prob(torch::kFloat);
  std::vector<torch::Tensor> ps;
  for (const auto& t : prob.init) ps.push_back(leaf(t));
  AdamW a(make_groups(ps), 0.9, 0.95, 1e-8), b(make_groups(ps), 0.9, 0.95, 1e-8);
  auto st = a.state();
  st.erase("bias.exp_avg_sq");
  try {
    b.load_state(st, "ckpt/optimizer.safetensors");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'bias.exp_avg_sq'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("ckpt/optimizer.safetensors"), std::string::npos) << e.message();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(AdamW, LoadStateWrongShapeNamesTheKey) {
  Problem prob(torch::kFloat);
  std::vector<torch::Tensor> ps;
  for (const auto& t : prob.init) ps.push_back(leaf(t));
  AdamW a(make_groups(ps), 0.9, 0.95, 1e-8), b(make_groups(ps), 0.9, 0.95, 1e-8);
  auto st = a.state();
  st["w.exp_avg"] = torch::zeros({5, 4});  // transposed shape
  try {
    b.load_state(st, "ckpt/optimizer.safetensors");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'w.exp_avg'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("wrong shape"), std::string::npos) << e.message();
  }
}

TEST(Sgd, LoadStateMissingKeyNamesTheKey) {
  Problem prob(torch::kFloat);
  std::vector<torch::Tensor> ps;
  for (const auto& t : prob.init) ps.push_back(leaf(t));
  Sgd a(make_groups(ps), 0.9, false), b(make_groups(ps), 0.9, false);
  auto st = a.state();
  st.erase("big.momentum");
  try {
    b.load_state(st, "x.safetensors");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'big.momentum'"), std::string::npos) << e.message();
  }
}

TEST(MakeOptimizer, UnknownTypeIsUserError) {
  OptimConfig c;
  c.type = "adam";
  try {
    make_optimizer(c, {});
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'adam'"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("adamw"), std::string::npos) << e.hint();
  }
  c.type = "sgd";
  EXPECT_NE(dynamic_cast<Sgd*>(make_optimizer(c, {}).get()), nullptr);
  c.type = "adamw";
  EXPECT_NE(dynamic_cast<AdamW*>(make_optimizer(c, {}).get()), nullptr);
}

// A model with every kind of parameter default_param_groups distinguishes.
class GroupingModel : public ModelImpl {
 public:
  GroupingModel() {
    wte = register_parameter("wte", torch::randn({10, 4}));                  // 2-D embedding by name
    wpe = register_parameter("wpe", torch::randn({8, 4}));                   // 2-D embedding by name
    embed_tokens = register_module("embed_tokens", torch::nn::Embedding(10, 4));
    proj = register_module("proj", torch::nn::Linear(4, 4));                 // weight decays, bias not
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    frozen = register_module("frozen", torch::nn::Linear(4, 4));
    head = register_module("head", torch::nn::Linear(4, 3));
    for (auto& p : frozen->parameters()) p.set_requires_grad(false);
  }
  std::string family() const override { return "grouping-test"; }
  nlohmann::json config_json() const override { return nlohmann::json::object(); }
  YAML::Node config_yaml() const override { return YAML::Node(); }
  TensorMap forward(const TensorMap&) override { return {}; }

  torch::Tensor wte, wpe;
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::Linear proj{nullptr}, frozen{nullptr}, head{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

const ParamGroup* find_group(const std::vector<ParamGroup>& gs, double lr_mult, double wd) {
  for (const auto& g : gs)
    if (g.lr_mult == lr_mult && g.weight_decay == wd) return &g;
  return nullptr;
}

std::set<std::string> names_of(const ParamGroup& g) { return {g.names.begin(), g.names.end()}; }

TEST(DefaultParamGroups, SplitsDecayNoDecayAndSkipsFrozen) {
  GroupingModel m;
  auto groups = default_param_groups(m, 0.1, [](const std::string&) { return 1.0; });
  ASSERT_EQ(groups.size(), 2u);
  const ParamGroup* decay = find_group(groups, 1.0, 0.1);
  const ParamGroup* no_decay = find_group(groups, 1.0, 0.0);
  ASSERT_TRUE(decay && no_decay);
  EXPECT_EQ(decay->name, "decay");
  EXPECT_EQ(no_decay->name, "no_decay");
  EXPECT_EQ(names_of(*decay), (std::set<std::string>{"proj.weight", "head.weight"}));
  EXPECT_EQ(names_of(*no_decay), (std::set<std::string>{"wte", "wpe", "embed_tokens.weight", "proj.bias",
                                                        "norm.weight", "norm.bias", "head.bias"}));
  // names and params are parallel: each name refers to the very tensor of the model.
  auto named = m.named_parameters(true);
  for (const auto* g : {decay, no_decay}) {
    ASSERT_EQ(g->names.size(), g->params.size());
    for (size_t i = 0; i < g->names.size(); ++i)
      EXPECT_TRUE(g->params[i].is_same(named[g->names[i]])) << g->names[i];
  }
}

TEST(DefaultParamGroups, LrMultipliersMakeSeparateGroups) {
  GroupingModel m;
  auto groups = default_param_groups(m, 0.05, [](const std::string& n) { return n.rfind("head.", 0) == 0 ? 2.0 : 1.0; });
  ASSERT_EQ(groups.size(), 4u);
  const ParamGroup* head_decay = find_group(groups, 2.0, 0.05);
  const ParamGroup* head_no_decay = find_group(groups, 2.0, 0.0);
  const ParamGroup* body_decay = find_group(groups, 1.0, 0.05);
  ASSERT_TRUE(head_decay && head_no_decay && body_decay);
  EXPECT_EQ(names_of(*head_decay), std::set<std::string>{"head.weight"});
  EXPECT_EQ(names_of(*head_no_decay), std::set<std::string>{"head.bias"});
  EXPECT_EQ(names_of(*body_decay), std::set<std::string>{"proj.weight"});
  EXPECT_NE(head_decay->name.find("lr_x2"), std::string::npos) << head_decay->name;
}

TEST(DefaultParamGroups, AllFrozenGivesNoGroups) {
  GroupingModel m;
  for (auto& p : m.parameters()) p.set_requires_grad(false);
  EXPECT_TRUE(default_param_groups(m, 0.1, [](const std::string&) { return 1.0; }).empty());
}

}  // namespace
}  // namespace ptft
