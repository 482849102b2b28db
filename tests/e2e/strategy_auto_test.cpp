// `ptft finetune --set finetune.strategy=auto` end to end, on the tiny pre-trained GPT of
// gpt_fixture.h (general licences) moved to the GPL family: a trial per candidate, the best by
// val_loss continued to train.steps in RUN_DIR (a normal run: config.yaml, checkpoints,
// strategy_search event, generate works) with the weights of running the chosen strategy
// directly, --resume of a finished search, and the errors.
#include <gtest/gtest.h>

#include "gpt_fixture.h"

namespace {
using e2e::contains;
namespace sfs = std::filesystem;

const std::vector<std::string> kCandidates = {"head", "freeze", "lora", "full"};

// 12 steps, evaluated at the end (and, in trials, after their 3 steps).
std::string domain_config(const e2e::TempDir& tmp) {
  const auto& g = e2e::tiny_gpt();
  const std::string path = tmp.path("ft.yaml");
  e2e::write_text(path, "data: {train: " + g.domain + ", val: " + g.domain + "}\n" +
                            "train: {steps: 12, batch_size: 4, lr: 1.0e-3, warmup: 0, eval_every: 12,\n"
                            "        eval_batches: 2, save_every: 12, weight_decay: 0.0}\n"
                            "finetune: {lora: {r: 4, alpha: 8, targets: [c_attn]}}\n");
  return path;
}

std::vector<std::string> finetune_args(const e2e::TempDir& tmp, const std::string& out,
                                       const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"finetune", "--config", domain_config(tmp), "--from", e2e::tiny_gpt().ckpt,
                                   "--out", out, "--threads", "1"};
  for (const auto& s : sets) args = e2e::concat(args, {"--set", s});
  return args;
}

const std::vector<std::string> kAuto = {"finetune.strategy=auto", "finetune.auto.trial_steps=3"};

TEST(StrategyAutoE2E, TriesEachCandidateContinuesTheBestAndReportsTheComparison) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  const std::string run = tmp.path("auto");
  auto r = e2e::run_ptft(finetune_args(tmp, run, kAuto));
  ASSERT_EQ(r.exit_code, 0) << r.text();

  // One trial per candidate: 3 steps of the 12-step schedule, evaluated at step 3.
  auto search = e2e::read_json(run + "/strategy_search.json");
  EXPECT_EQ(search["metric"], "val_loss");
  EXPECT_EQ(search["mode"], "min");
  ASSERT_EQ(search["candidates"].size(), kCandidates.size()) << search.dump(2);
  std::string best;
  double best_value = 1e300;
  for (size_t i = 0; i < kCandidates.size(); ++i) {
    const auto& c = search["candidates"][i];
    const std::string dir = run + "/trials/" + kCandidates[i];
    EXPECT_EQ(c["strategy"], kCandidates[i]);
    EXPECT_EQ(c["trial_steps"], 3);
    ASSERT_TRUE(c["value"].is_number()) << c.dump();
    EXPECT_GT(c["trainable_parameters"].get<int64_t>(), 0);
    EXPECT_TRUE(c.contains("wall_seconds"));
    auto summary = e2e::read_json(dir + "/summary.json");
    EXPECT_EQ(summary["steps"], 3) << dir;
    EXPECT_EQ(summary["last_eval"]["step"], 3);
    EXPECT_EQ(summary["last_eval"]["val_loss"], c["value"]);
    EXPECT_EQ(summary["trainable_parameters"], c["trainable_parameters"]);
    EXPECT_TRUE(contains(e2e::read_text(dir + "/config.yaml"), "strategy: " + kCandidates[i])) << dir;
    if (c["value"].get<double>() < best_value) {
      best_value = c["value"].get<double>();
      best = kCandidates[i];
    }
  }
  EXPECT_EQ(search["chosen"], best);
  // The freeze candidate froze half of the 2 blocks; lora trained only its adapters.
  EXPECT_TRUE(contains(e2e::read_text(run + "/trials/freeze/config.yaml"), "freeze_layers: 1"));
  EXPECT_EQ(search["candidates"][2]["trainable_parameters"], 2 * (4 * 32 + 96 * 4));
  EXPECT_TRUE(contains(r.err, "> " + best)) << r.err;
  EXPECT_TRUE(contains(r.err, "strategy search on val_loss")) << r.err;
  // The environment report (BLAS, threads, CPU) comes once, not once per trial.
  size_t reports = 0;
  for (size_t at = r.err.find("BLAS:"); at != std::string::npos; at = r.err.find("BLAS:", at + 1)) ++reports;
  EXPECT_EQ(reports, 1u) << r.err;

  // RUN_DIR is the chosen strategy's run, continued from its trial to step 12.
  auto summary = e2e::read_json(run + "/summary.json");
  EXPECT_EQ(summary["steps"], 12);
  EXPECT_EQ(summary["strategy_search"], search);
  EXPECT_TRUE(contains(e2e::read_text(run + "/config.yaml"), "strategy: " + best));
  EXPECT_TRUE(e2e::complete_checkpoint(run + "/checkpoints/last"));
  EXPECT_TRUE(sfs::exists(run + "/checkpoints/best"));
  int search_events = 0, resumes = 0;
  for (const auto& e : e2e::read_jsonl(run + "/metrics.jsonl")) {
    if (e["event"] == "resume") {
      ++resumes;
      EXPECT_EQ(e["step"], 3);
    }
    if (e["event"] != "strategy_search") continue;
    ++search_events;
    EXPECT_EQ(e["chosen"], best);
    EXPECT_EQ(e["metric"], "val_loss");
    EXPECT_EQ(e["mode"], "min");
    EXPECT_EQ(e["candidates"], search["candidates"]);
  }
  EXPECT_EQ(search_events, 1);
  EXPECT_EQ(resumes, 1);

  // Its weights are those of fine-tuning with the chosen strategy directly, at the LR its trial
  // had (head and lora train at train.lr x finetune.auto.head_lr_scale / lora_lr_scale).
  nlohmann::json lr;
  for (const auto& e : e2e::read_jsonl(run + "/metrics.jsonl"))
    if (e["event"] == "start") lr = e["config"]["train"]["lr"];
  ASSERT_FALSE(lr.is_null());
  // Each trial's LR: the config's 1e-3, x10 for head, x3 for lora.
  for (const auto& [strategy, want] : std::map<std::string, double>{{"head", 1e-2}, {"freeze", 1e-3}, {"lora", 3e-3},
                                                                    {"full", 1e-3}})
    for (const auto& e : e2e::read_jsonl(run + "/trials/" + strategy + "/metrics.jsonl"))
      if (e["event"] == "start") {
        const auto& v = e["config"]["train"]["lr"];
        EXPECT_NEAR(v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>(), want, 1e-12) << strategy;
      }
  const std::string direct = tmp.path("direct");
  auto d = e2e::run_ptft(e2e::concat(finetune_args(tmp, direct, {"finetune.strategy=" + best}),
                                     {"--set", std::string("finetune.freeze_layers=") + (best == "freeze" ? "1" : "0"),
                                      "--set", "train.lr=" + (lr.is_string() ? lr.get<std::string>() : lr.dump()),
                                      "--quiet"}));
  ASSERT_EQ(d.exit_code, 0) << d.text();
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(direct + "/checkpoints/last/model.safetensors"),
                                e2e::read_tensors(run + "/checkpoints/last/model.safetensors")));

  auto gen = e2e::run_ptft({"generate", "--model", run, "--prompt", "This License", "--max-new-tokens", "8",
                            "--threads", "1", "--seed", "3"});
  EXPECT_EQ(gen.exit_code, 0) << gen.text();
  EXPECT_FALSE(gen.out.empty());

  // --resume of the finished search: no trial runs again, the final run has nothing left to do.
  const size_t trial_lines = e2e::read_jsonl(run + "/trials/head/metrics.jsonl").size();
  auto again = e2e::run_ptft(e2e::concat(finetune_args(tmp, run, kAuto), {"--resume", "--quiet"}));
  ASSERT_EQ(again.exit_code, 0) << again.text();
  EXPECT_EQ(e2e::read_jsonl(run + "/trials/head/metrics.jsonl").size(), trial_lines);
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["steps"], 12);
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["strategy_search"], search);

  // Without --resume the directory is not reused.
  auto reuse = e2e::run_ptft(e2e::concat(finetune_args(tmp, run, kAuto), {"--quiet"}));
  EXPECT_EQ(reuse.exit_code, 1) << reuse.text();
  EXPECT_TRUE(contains(reuse.err, "already holds a run")) << reuse.err;
}

TEST(StrategyAutoE2E, ErrorsSayWhatIsMissing) {
  ASSERT_TRUE(e2e::tiny_gpt().ok);
  e2e::TempDir tmp;
  auto expect_error = [&](const std::string& name, std::vector<std::string> args, const std::string& message) {
    SCOPED_TRACE(name);
    auto r = e2e::run_ptft(e2e::concat(args, {"--quiet"}));
    EXPECT_EQ(r.exit_code, 1) << r.text();
    EXPECT_TRUE(contains(r.err, message)) << r.err;
    EXPECT_FALSE(sfs::exists(tmp.path(name))) << "the run directory was created";
  };
  expect_error("noval", finetune_args(tmp, tmp.path("noval"), e2e::concat(kAuto, {"data.val=\"\""})),
               "auto needs validation data to compare strategies");
  expect_error("long", finetune_args(tmp, tmp.path("long"), {"finetune.strategy=auto", "finetune.auto.trial_steps=12"}),
               "finetune.auto.trial_steps is 12 but train.steps is only 12");
  expect_error("unknown",
               finetune_args(tmp, tmp.path("unknown"), e2e::concat(kAuto, {"finetune.auto.candidates=[head, adapters]"})),
               "unknown strategy 'adapters'");

  const auto& g = e2e::tiny_gpt();
  e2e::write_text(tmp.path("pre.yaml"), e2e::tiny_gpt_model_yaml() + "data: {train: " + g.general + ", val: " +
                                            g.general + "}\ntrain: {steps: 4}\n");
  expect_error("pre",
               {"pretrain", "--config", tmp.path("pre.yaml"), "--out", tmp.path("pre"), "--threads", "1", "--set",
                "finetune.strategy=auto"},
               "compares fine-tuning strategies");
}

}  // namespace
