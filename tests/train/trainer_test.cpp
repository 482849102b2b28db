// Tests for Trainer::fit (ptft/train/trainer.h) on the smallest real problem: an MLP on
// synthetic spirals, in a temporary run directory. Covers learning, bit-exact resume after an
// interrupt (also with an EMA of the weights), divergence, early stopping, SIGINT, the `best`
// checkpoint and pruning, what EMA checkpoints hold, and results.csv rows.
#include "ptft/train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/core/signals.h"
#include "ptft/models/mlp.h"
#include "ptft/train/classification_task.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

using test::TempDir;

// StopSignals is process-global: clear it before and after every test that touches it.
struct SignalReset {
  SignalReset() { StopSignals::reset(); }
  ~SignalReset() { StopSignals::reset(); }
};

TrainConfig base_config() {
  TrainConfig c;
  c.steps = 40;
  c.batch_size = 16;
  c.grad_accum = 1;
  c.lr = 1e-2;
  c.warmup = 5;
  c.schedule = "cosine";
  c.weight_decay = 0.01;
  c.beta2 = 0.99;
  c.log_every = 10;
  c.eval_every = 10;
  c.save_every = 10;
  c.keep_checkpoints = 0;  // no pruning unless a test asks for it
  c.seed = 7;
  c.device = "cpu";
  c.precision = "fp32";
  return c;
}

// ClassificationTask, with a hook on every loss_sum call (1-based count of micro-batches).
class ProbeTask : public Task {
 public:
  std::function<void(int64_t call, torch::Tensor& loss_sum)> on_call;
  int64_t calls = 0;
  std::string name() const override { return "probe"; }
  torch::Tensor loss_sum(ModelImpl& model, const Batch& batch) override {
    auto l = inner_.loss_sum(model, batch);
    ++calls;
    if (on_call) on_call(calls, l);
    return l;
  }
  std::unique_ptr<EvalAccumulator> new_eval() const override { return inner_.new_eval(); }

 private:
  ClassificationTask inner_;
};

// Everything a run needs, built the way run_training builds it.
struct Harness {
  TrainConfig cfg;
  std::string run_dir;
  std::shared_ptr<MlpImpl> model;
  std::unique_ptr<DataSource> train, val;
  std::unique_ptr<Optimizer> opt;
  MetricsLog metrics;

  Harness(TrainConfig c, std::string dir, uint64_t init_seed) : cfg(std::move(c)), run_dir(std::move(dir)) {
    sfs::create_directories(run_dir);
    metrics.open(run_dir + "/metrics.jsonl");
    torch::manual_seed(init_seed);
    MlpConfig mc;
    mc.hidden = {32, 32};
    mc.dropout = 0.1;  // consumes the global RNG while training: resume must restore it
    model = std::make_shared<MlpImpl>(mc);
    DataContext dc;
    dc.seed = static_cast<uint64_t>(cfg.seed);
    train = open_data_source("synthetic:spirals?n=512", "train", dc, "data.train");
    val = open_data_source("synthetic:spirals?n=256", "val", dc, "data.val");
    OptimConfig oc;
    oc.type = cfg.optimizer;
    oc.beta1 = cfg.beta1;
    oc.beta2 = cfg.beta2;
    oc.eps = cfg.eps;
    oc.momentum = cfg.momentum;
    opt = make_optimizer(oc, default_param_groups(*model, cfg.weight_decay, [](const std::string&) { return 1.0; }));
  }
  TrainerContext context() {
    TrainerContext ctx;
    ctx.run_dir = run_dir;
    ctx.metrics = &metrics;
    ctx.quiet = true;
    ctx.checkpoint_config = model->config_json();
    ctx.resume_command = "(test)";
    return ctx;
  }
  FitResult fit(Task& task, const Checkpoint* resume = nullptr, DataSource* val_src = nullptr) {
    Trainer t(cfg, context());
    return t.fit(*model, task, *train, val_src ? val_src : val.get(), *opt, resume);
  }
  std::string ckpt(const std::string& name) const { return run_dir + "/checkpoints/" + name; }
  std::vector<nlohmann::json> events(const std::string& kind) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(run_dir + "/metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.at("event") == kind) out.push_back(j);
    }
    return out;
  }
};

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

std::string link_target(const std::string& link) { return sfs::read_symlink(link).filename().string(); }

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : sfs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::set<std::string> step_dirs(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : entries(dir))
    if (e.rfind("step-", 0) == 0) out.insert(e);
  return out;
}

void expect_no_temporaries(const std::string& dir) {
  for (const auto& e : entries(dir)) EXPECT_EQ(e.find(".tmp-"), std::string::npos) << dir << "/" << e;
}

TEST(Trainer, LossGoesDownAndValAccuracyBeatsChance) {
  TempDir tmp("learn");
  auto cfg = base_config();
  cfg.steps = 200;
  cfg.lr = 3e-2;
  cfg.eval_every = 50;
  cfg.save_every = 0;
  Harness h(cfg, tmp.path, 1);
  ProbeTask task;
  Trainer probe(cfg, h.context());
  const double val_loss_before = probe.evaluate(*h.model, task, *h.val).at("loss").get<double>();
  FitResult r = h.fit(task);
  EXPECT_EQ(r.step, 200);
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.units_seen, 200 * 16);
  EXPECT_EQ(task.calls, 200);
  const double val_loss = r.last_eval.at("val_loss").get<double>();
  const double val_acc = r.last_eval.at("val_accuracy").get<double>();
  EXPECT_LT(val_loss, 0.8 * val_loss_before);
  EXPECT_GT(val_acc, 0.6);  // 3 classes: chance is 1/3
  EXPECT_EQ(r.last_eval.at("val_examples").get<int64_t>(), 256);
  auto train = h.events("train");
  ASSERT_EQ(train.size(), 20u);  // log_every 10
  EXPECT_LT(train.back().at("loss").get<double>(), train.front().at("loss").get<double>());
  // save_every 0: one checkpoint, at the end (plus the best ones of the 4 evaluations).
  EXPECT_EQ(link_target(h.ckpt("last")), step_name(200));
  EXPECT_EQ(h.events("eval").size(), 4u);
}

// Where the time went: every phase of the loop is timed, and the phases add up to the run.
TEST(Trainer, TimeByPhaseAddsUpToTheRun) {
  TempDir tmp("phases");
  auto cfg = base_config();
  cfg.steps = 40;
  cfg.eval_every = 20;
  cfg.save_every = 20;
  Harness h(cfg, tmp.path, 1);
  ProbeTask task;
  FitResult r = h.fit(task);
  double sum = 0;
  for (const char* phase : {"data", "forward", "backward", "optimizer", "eval", "checkpoint", "other"}) {
    ASSERT_TRUE(r.phase_seconds.contains(phase)) << r.phase_seconds.dump();
    EXPECT_GT(r.phase_seconds[phase].get<double>(), 0.0) << phase;
  }
  EXPECT_EQ(r.phase_seconds["sync"].get<double>(), 0.0);  // one process
  for (auto& [name, s] : r.phase_seconds.items()) sum += s.get<double>();
  EXPECT_LE(sum, r.wall_seconds + 1e-6);
  EXPECT_GT(sum, 0.95 * r.wall_seconds);
  // Each train event holds its interval's phases; together at most the totals.
  double forward = 0;
  for (const auto& ev : h.events("train")) {
    ASSERT_TRUE(ev.contains("phase_s")) << ev.dump();
    forward += ev["phase_s"].value("forward", 0.0);
  }
  EXPECT_GT(forward, 0.0);
  EXPECT_LE(forward, r.phase_seconds["forward"].get<double>() + 1e-9);

  // train.phase_times off: no timing at all.
  TempDir tmp2("phases-off");
  cfg.phase_times = "off";
  Harness off(cfg, tmp2.path, 1);
  EXPECT_TRUE(off.fit(task).phase_seconds.is_null());
  EXPECT_FALSE(off.events("train").front().contains("phase_s"));
}

TEST(Trainer, ResumeAfterInterruptIsBitExact) {
  SignalReset reset;
  TempDir tmp("resume");
  auto cfg = base_config();
  cfg.batch_size = 8;
  cfg.grad_accum = 2;  // the interrupt lands inside a step's accumulation

  // A: 40 steps in one go.
  Harness a(cfg, tmp.path + "/a", 7);
  ProbeTask ta;
  FitResult ra = a.fit(ta);
  ASSERT_EQ(ra.step, 40);

  // B: the same run, SIGINT during the 2nd micro-batch of step 20: the trainer finishes the
  // step, checkpoints it and returns.
  Harness b(cfg, tmp.path + "/b", 7);
  ProbeTask tb;
  tb.on_call = [](int64_t call, torch::Tensor&) {
    if (call == 40) StopSignals::raise_for_test(SIGINT);
  };
  FitResult rb = b.fit(tb);
  ASSERT_TRUE(rb.interrupted);
  ASSERT_EQ(rb.step, 20);
  StopSignals::reset();
  Checkpoint ck = read_ptft_checkpoint(b.ckpt("last"));
  ASSERT_EQ(ck.trainer_state.at("step").get<int64_t>(), 20);

  // C: a fresh "process" resumes B: another init seed (the weights must come from the
  // checkpoint), other RNG state (it must come from trainer_state).
  Harness c(cfg, tmp.path + "/b", 999);
  load_into(*c.model, ck.model, ck.dir + "/model.safetensors");
  ProbeTask tc;
  FitResult rc = c.fit(tc, &ck);
  EXPECT_EQ(rc.step, 40);
  EXPECT_FALSE(rc.interrupted);
  EXPECT_EQ(tc.calls, 40);  // steps 21..40, 2 micro-batches each
  EXPECT_EQ(rc.best_step, ra.best_step);
  EXPECT_EQ(rc.best_metric, ra.best_metric);

  auto wa = state_dict(*a.model), wc = state_dict(*c.model);
  ASSERT_EQ(wa.size(), wc.size());
  for (const auto& [name, t] : wa) EXPECT_TRUE(torch::equal(t, wc.at(name))) << name;
  auto sa = a.opt->state(), sc = c.opt->state();
  for (const auto& [name, t] : sa) EXPECT_TRUE(torch::equal(t, sc.at(name))) << name;
  // The interrupted weights were not already the final ones (the comparison above means something).
  EXPECT_FALSE(torch::equal(wa.at("head.weight"), ck.model.at("head.weight")));
  // The final checkpoints agree too, RNG included.
  auto fa = read_ptft_checkpoint(a.ckpt("last")), fc = read_ptft_checkpoint(c.ckpt("last"));
  EXPECT_EQ(fa.trainer_state.at("rng"), fc.trainer_state.at("rng"));
  EXPECT_EQ(fc.trainer_state.at("step").get<int64_t>(), 40);
  EXPECT_EQ(c.events("resume").size(), 1u);
}

TEST(Trainer, EmaResumeAfterInterruptEqualsUninterrupted) {
  SignalReset reset;
  TempDir tmp("ema_resume");
  auto cfg = base_config();
  cfg.ema = 0.9;
  cfg.ema_tau = 5;

  Harness a(cfg, tmp.path + "/a", 7);
  ProbeTask ta;
  FitResult ra = a.fit(ta);
  ASSERT_EQ(ra.step, 40);

  Harness b(cfg, tmp.path + "/b", 7);
  ProbeTask tb;
  tb.on_call = [](int64_t call, torch::Tensor&) {
    if (call == 25) StopSignals::raise_for_test(SIGINT);  // between checkpoints
  };
  FitResult rb = b.fit(tb);
  ASSERT_TRUE(rb.interrupted);
  ASSERT_EQ(rb.step, 25);
  StopSignals::reset();
  Checkpoint ck = read_ptft_checkpoint(b.ckpt("last"));
  ASSERT_FALSE(ck.training_model.empty());
  EXPECT_EQ(ck.trainer_state.at("ema").at("updates").get<int64_t>(), 25);

  // As run_training does: the checkpoint's model.safetensors (the average) goes into the model;
  // the trainer takes the raw weights from training_model.safetensors.
  Harness c(cfg, tmp.path + "/b", 999);
  load_into(*c.model, ck.model, ck.dir + "/model.safetensors");
  ProbeTask tc;
  FitResult rc = c.fit(tc, &ck);
  ASSERT_EQ(rc.step, 40);
  EXPECT_EQ(tc.calls, 15);
  EXPECT_EQ(rc.best_step, ra.best_step);
  EXPECT_NEAR(rc.best_metric, ra.best_metric, 1e-6);
  EXPECT_NEAR(rc.last_eval.at("val_loss").get<double>(), ra.last_eval.at("val_loss").get<double>(), 1e-6);

  auto fa = read_ptft_checkpoint(a.ckpt("last")), fc = read_ptft_checkpoint(c.ckpt("last"));
  EXPECT_EQ(fc.trainer_state.at("ema").at("updates").get<int64_t>(), 40);
  auto expect_close = [](const std::string& what, const TensorMap& x, const TensorMap& y) {
    ASSERT_EQ(x.size(), y.size()) << what;
    for (const auto& [name, t] : x) EXPECT_TRUE(torch::allclose(t, y.at(name), 1e-6, 1e-7)) << what << " " << name;
  };
  expect_close("model.safetensors (EMA)", fa.model, fc.model);
  expect_close("training_model.safetensors", fa.training_model, fc.training_model);
  expect_close("optimizer.safetensors", fa.optimizer, fc.optimizer);
  expect_close("raw weights", state_dict(*a.model), state_dict(*c.model));
  // results.csv: the rows up to step 25 kept, the rest redone: one per evaluation, as in `a`.
  auto rows = [](const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l.substr(0, l.find(',', l.find(',') + 1)));
    return out;  // "epoch,step" of every line
  };
  EXPECT_EQ(rows(c.run_dir + "/results.csv"), rows(a.run_dir + "/results.csv"));
  EXPECT_EQ(rows(a.run_dir + "/results.csv").size(), 5u);  // header + evaluations at 10, 20, 30, 40
}

TEST(Trainer, EmaCheckpointsHoldTheAverageThatEvaluationScored) {
  TempDir tmp("ema_ckpt");
  auto cfg = base_config();
  cfg.steps = 20;
  cfg.ema = 0.9;
  cfg.ema_tau = 5;
  Harness h(cfg, tmp.path + "/run", 7);
  ProbeTask task;
  TrainerContext ctx = h.context();
  TensorMap extras_saw;  // what checkpoint_extras (LoRA adapter files) find in the model
  ctx.checkpoint_extras = [&](const std::string&, ModelImpl& m) {
    for (const auto& [k, v] : state_dict(m)) extras_saw[k] = v.clone();
  };
  Trainer t(cfg, ctx);
  FitResult r = t.fit(*h.model, task, *h.train, h.val.get(), *h.opt);
  ASSERT_EQ(r.step, 20);

  Checkpoint last = read_ptft_checkpoint(h.ckpt("last"));
  EXPECT_EQ(last.trainer_state.at("ema").at("updates").get<int64_t>(), 20);
  EXPECT_DOUBLE_EQ(last.trainer_state.at("ema").at("decay").get<double>(), 0.9);
  // The raw weights are back in the model after every evaluation, and in training_model.
  const auto raw = state_dict(*h.model);
  ASSERT_EQ(last.training_model.size(), raw.size());
  for (const auto& [k, v] : raw) EXPECT_TRUE(torch::equal(v, last.training_model.at(k))) << k;
  // model.safetensors is the average, not the raw weights; the extras saw it too.
  EXPECT_FALSE(torch::equal(last.model.at("head.weight"), raw.at("head.weight")));
  for (const auto& [k, v] : last.model) EXPECT_TRUE(torch::equal(v, extras_saw.at(k))) << k;

  // Evaluating the saved average reproduces the last eval event; the raw weights score otherwise.
  Harness fresh(cfg, tmp.path + "/fresh", 99);
  load_into(*fresh.model, last.model, last.dir + "/model.safetensors");
  Trainer probe(cfg, fresh.context());
  const double ema_loss = probe.evaluate(*fresh.model, task, *fresh.val).at("loss").get<double>();
  const double raw_loss = probe.evaluate(*h.model, task, *h.val).at("loss").get<double>();
  EXPECT_NEAR(ema_loss, r.last_eval.at("val_loss").get<double>(), 1e-6);
  EXPECT_GT(std::abs(raw_loss - ema_loss), 1e-4);

  auto train = h.events("train");
  ASSERT_FALSE(train.empty());
  EXPECT_NEAR(train.back().at("ema_decay").get<double>(), 0.9 * (1 - std::exp(-20.0 / 5.0)), 1e-12);
  EXPECT_FALSE(read_ptft_checkpoint(h.ckpt("step-00000010")).training_model.empty());
}

TEST(Trainer, ResumeOfAFinishedRunTrainsNothing) {
  TempDir tmp("finished");
  auto cfg = base_config();
  cfg.steps = 10;
  Harness a(cfg, tmp.path, 7);
  ProbeTask ta;
  ASSERT_EQ(a.fit(ta).step, 10);
  Checkpoint ck = read_ptft_checkpoint(a.ckpt("last"));
  Harness b(cfg, tmp.path, 7);
  load_into(*b.model, ck.model, ck.dir);
  ProbeTask tb;
  FitResult r = b.fit(tb, &ck);
  EXPECT_EQ(tb.calls, 0);
  EXPECT_EQ(r.step, 10);  // the last completed step, not 0
}

TEST(Trainer, ResumeFromWeightsOnlyCheckpointIsUserError) {
  TempDir tmp("weights_only");
  Harness h(base_config(), tmp.path, 7);
  Checkpoint ck;
  ck.dir = tmp.path + "/exported";
  ck.model = state_dict(*h.model);
  ProbeTask task;
  try {
    h.fit(task, &ck);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("has no trainer_state.json"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("--from"), std::string::npos) << e.hint();
  }
}

TEST(Trainer, HugeLearningRateDivergesWithUserErrorAndKeepsLastCheckpoint) {
  TempDir tmp("diverge");
  auto cfg = base_config();
  cfg.lr = 1e30;
  cfg.warmup = 0;
  cfg.save_every = 1;
  Harness h(cfg, tmp.path, 7);
  ProbeTask task;
  try {
    h.fit(task);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("diverged at step 2"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("train.lr"), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find(h.ckpt("last")), std::string::npos) << e.hint();
  }
  // Step 1 was saved before the blow-up; step 2 never was.
  EXPECT_EQ(link_target(h.ckpt("last")), step_name(1));
  EXPECT_EQ(step_dirs(tmp.path + "/checkpoints"), std::set<std::string>{step_name(1)});
  expect_no_temporaries(tmp.path + "/checkpoints");
  auto err = h.events("error");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0].at("step").get<int64_t>(), 2);
}

TEST(Trainer, NanLossMidRunLeavesPreviousCheckpointIntact) {
  TempDir tmp("nan");
  auto cfg = base_config();  // save_every 10
  Harness h(cfg, tmp.path, 7);
  ProbeTask task;
  task.on_call = [](int64_t call, torch::Tensor& l) {
    if (call == 15) l = l * std::numeric_limits<float>::quiet_NaN();
  };
  try {
    h.fit(task);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("diverged at step 15"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("train.lr"), std::string::npos) << e.hint();
  }
  Checkpoint last = read_ptft_checkpoint(h.ckpt("last"));
  EXPECT_EQ(last.trainer_state.at("step").get<int64_t>(), 10);
  EXPECT_EQ(link_target(h.ckpt("last")), step_name(10));
  for (const auto& [name, t] : last.model) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name;
  EXPECT_EQ(step_dirs(tmp.path + "/checkpoints"), std::set<std::string>{step_name(10)});
  expect_no_temporaries(tmp.path + "/checkpoints");
}

TEST(Trainer, EarlyStopsWhenTheMetricCannotImprove) {
  TempDir tmp("early");
  auto cfg = base_config();
  cfg.eval_every = 5;
  cfg.patience = 1;
  cfg.metric = "val_loss";
  cfg.mode = "max";      // "improving" = the loss rising ...
  cfg.min_delta = 1.0;   // ... by a whole nat in 5 steps: it cannot
  Harness h(cfg, tmp.path, 7);
  ProbeTask task;
  FitResult r = h.fit(task);
  EXPECT_TRUE(r.early_stopped);
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.step, 10);       // 1st eval (step 5) sets best, 2nd (step 10) exhausts patience 1
  EXPECT_EQ(r.best_step, 5);
  EXPECT_EQ(task.calls, 10);
  auto stops = h.events("early_stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].at("step").get<int64_t>(), 10);
  EXPECT_EQ(stops[0].at("best_step").get<int64_t>(), 5);
  // The stop is checkpointed: a resume would continue from step 10.
  EXPECT_EQ(link_target(h.ckpt("last")), step_name(10));
  EXPECT_EQ(link_target(h.ckpt("best")), step_name(5));
  EXPECT_EQ(read_ptft_checkpoint(h.ckpt("last")).trainer_state.at("bad_evals").get<int64_t>(), 1);
}

TEST(Trainer, SigintStopsAfterOneStepWithCheckpoint) {
  SignalReset reset;
  TempDir tmp("sigint");
  Harness h(base_config(), tmp.path, 7);
  ProbeTask task;
  StopSignals::raise_for_test(SIGINT);
  FitResult r = h.fit(task);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.step, 1);
  EXPECT_EQ(task.calls, 1);
  Checkpoint c = read_ptft_checkpoint(h.ckpt("last"));
  EXPECT_EQ(c.trainer_state.at("step").get<int64_t>(), 1);
  EXPECT_EQ(c.trainer_state.at("samples_seen").get<int64_t>(), 16);
  EXPECT_FALSE(c.optimizer.empty());
  auto ev = h.events("interrupted");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].at("signal").get<int>(), SIGINT);
}

// Validation data whose labels are the true ones at the first evaluation only and rotated by
// one class afterwards: val_loss is then worse than it would be, so `best` is an early step
// that pruning must keep although it is neither among the newest nor `last`.
class RotatingLabels : public DataSource {
 public:
  explicit RotatingLabels(DataSource& inner) : inner_(inner) {}
  std::string describe() const override { return "rotating " + inner_.describe(); }
  int64_t size() const override { return inner_.size(); }
  Batch train_batch(const BatchAddress& at) override { return inner_.train_batch(at); }
  int64_t eval_batches(int64_t batch_size) const override { return inner_.eval_batches(batch_size); }
  Batch eval_batch(int64_t index, int64_t batch_size) override {
    if (index == 0) ++round_;
    Batch b = inner_.eval_batch(index, batch_size);
    if (round_ > 0) b.data["y"] = (b.data["y"] + 1) % 3;
    return b;
  }

 private:
  DataSource& inner_;
  int64_t round_ = -1;
};

TEST(Trainer, BestCheckpointIsTheBestEvalAndPruningKeepsIt) {
  TempDir tmp("best");
  auto cfg = base_config();
  cfg.eval_every = 5;
  cfg.save_every = 5;
  cfg.keep_checkpoints = 2;
  Harness h(cfg, tmp.path, 7);
  RotatingLabels val(*h.val);
  ProbeTask task;
  FitResult r = h.fit(task, nullptr, &val);
  ASSERT_EQ(r.step, 40);

  // The best val_loss (first strict minimum) among the 8 evaluations in metrics.jsonl.
  auto evals = h.events("eval");
  ASSERT_EQ(evals.size(), 8u);
  int64_t best_step = -1;
  double best = std::numeric_limits<double>::infinity();
  for (const auto& e : evals)
    if (e.at("val_loss").get<double>() < best) {
      best = e.at("val_loss").get<double>();
      best_step = e.at("step").get<int64_t>();
    }
  ASSERT_EQ(best_step, 5) << "the rotated labels should make the first evaluation the best";
  EXPECT_EQ(r.best_step, best_step);
  EXPECT_DOUBLE_EQ(r.best_metric, best);
  EXPECT_EQ(link_target(h.ckpt("best")), step_name(best_step));
  Checkpoint bc = read_ptft_checkpoint(h.ckpt("best"));
  EXPECT_EQ(bc.trainer_state.at("step").get<int64_t>(), best_step);
  EXPECT_DOUBLE_EQ(bc.trainer_state.at("best_metric").get<double>(), best);
  auto bests = h.events("best");
  ASSERT_FALSE(bests.empty());
  EXPECT_EQ(bests.back().at("step").get<int64_t>(), best_step);

  // keep_checkpoints 2: at most 2 step directories besides `best`, `last` is the final step,
  // and everything kept is `best` or among the 2 newest saves.
  auto dirs = step_dirs(tmp.path + "/checkpoints");
  EXPECT_LE(dirs.size(), 3u);
  EXPECT_EQ(link_target(h.ckpt("last")), step_name(40));
  for (const auto& d : dirs)
    EXPECT_TRUE(d == step_name(best_step) || d == step_name(35) || d == step_name(40)) << d;
  EXPECT_TRUE(dirs.count(step_name(best_step)));
  EXPECT_TRUE(dirs.count(step_name(40)));
  expect_no_temporaries(tmp.path + "/checkpoints");
}

TEST(Trainer, UnknownMetricIsUserErrorListingTheAvailableOnes) {
  TempDir tmp("metric");
  auto cfg = base_config();
  cfg.metric = "val_f1";
  Harness h(cfg, tmp.path, 7);
  ProbeTask task;
  try {
    h.fit(task);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'val_f1'"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("val_accuracy"), std::string::npos) << e.hint();
  }
}

TEST(Trainer, InvalidConfigIsRejectedAtConstruction) {
  auto cfg = base_config();
  cfg.grad_accum = 0;
  try {
    Trainer t(cfg, TrainerContext{});
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("train.grad_accum must be > 0, got 0"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace ptft
