// End-to-end: the overfitting alarm (train.overfit_patience). A wide MLP on 64 spiral points with a
// high constant LR and no weight decay memorises them: val_loss rises while the training loss
// falls, and the run warns on stderr, writes an `overfit` event with advice and lists the step in
// summary.json. The default spirals run (4096 points, a small MLP) does not overfit: no event.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {
using e2e::contains;

std::vector<nlohmann::json> events_of(const std::vector<nlohmann::json>& all, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& e : all)
    if (e.value("event", "") == kind) out.push_back(e);
  return out;
}

// --set overrides of configs/mlp-spirals.yaml for a run that memorises its 64 training points.
std::vector<std::string> memorising(const std::vector<std::string>& more = {}) {
  return e2e::concat({"model.hidden=[256, 256]", "data.train=synthetic:spirals?classes=3&n=64", "train.steps=200",
                      "train.schedule=constant", "train.warmup=0", "train.lr=1e-2", "train.weight_decay=0",
                      "train.eval_every=25", "train.log_every=25", "train.save_every=0"},
                     more);
}

void expect_no_alarm(const e2e::Result& r, const std::string& run) {
  EXPECT_FALSE(contains(r.err, "overfitting")) << r.err;
  EXPECT_TRUE(events_of(e2e::read_jsonl(run + "/metrics.jsonl"), "overfit").empty());
  EXPECT_TRUE(e2e::read_json(run + "/summary.json")["overfit_warnings"].empty());
}

TEST(PretrainOverfitE2E, WarnsWhenValidationLossRisesWhileTrainingLossFalls) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", run, memorising({"train.metric=val_loss"})));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.err, "warning: overfitting at step")) << r.err;
  EXPECT_TRUE(contains(r.err, "pre-training trains")) << r.err;
  EXPECT_TRUE(contains(r.err, "train.weight_decay=0.1 (now 0.0)")) << r.err;

  const auto all = e2e::read_jsonl(run + "/metrics.jsonl");
  const auto alarms = events_of(all, "overfit");
  ASSERT_GE(alarms.size(), 1u) << r.err;
  const auto& a = alarms.front();
  EXPECT_EQ(a["metric"], "val_loss");
  ASSERT_EQ(a["values"].size(), 4u) << a.dump();  // overfit_patience 3 + 1
  ASSERT_EQ(a["train_losses"].size(), 4u) << a.dump();
  EXPECT_GT(a["values"][3].get<double>(), a["values"][0].get<double>()) << a.dump();
  EXPECT_LT(a["train_losses"][3].get<double>(), a["train_losses"][0].get<double>()) << a.dump();
  ASSERT_FALSE(a["advice"].empty());
  for (const auto& line : a["advice"]) EXPECT_FALSE(line.get<std::string>().empty());

  // The values are the eval events' val_loss at the alarm's step and before.
  const auto evals = events_of(all, "eval");
  for (size_t i = 0; i < evals.size(); ++i)
    if (evals[i]["step"] == a["step"]) {
      ASSERT_GE(i, 3u);
      for (size_t k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(a["values"][k].get<double>(), evals[i - 3 + k]["val_loss"].get<double>());
    }

  const auto summary = e2e::read_json(run + "/summary.json");
  ASSERT_TRUE(summary.contains("overfit_warnings")) << summary.dump();
  EXPECT_EQ(summary["overfit_warnings"].size(), alarms.size());
  EXPECT_EQ(summary["overfit_warnings"][0], a["step"]);
}

TEST(FinetuneOverfitE2E, AFullFineTuneOnFewExamplesIsToldToFreezeOrUseLora) {
  e2e::TempDir tmp;
  auto pre = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("pre"), {"model.hidden=[256, 256]", "train.steps=100"}));
  ASSERT_EQ(pre.exit_code, 0) << pre.text();
  const std::string run = tmp.path("ft");
  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("finetune", run, memorising()), {"--from", tmp.path("pre")}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto alarms = events_of(e2e::read_jsonl(run + "/metrics.jsonl"), "overfit");
  ASSERT_FALSE(alarms.empty()) << r.err;
  std::string advice;
  for (const auto& line : alarms[0]["advice"]) advice += line.get<std::string>() + "\n";
  EXPECT_TRUE(contains(advice, "fine-tuning with strategy full trains")) << advice;
  EXPECT_TRUE(contains(advice, "finetune.strategy=lora")) << advice;
  EXPECT_TRUE(contains(advice, "on 64 examples")) << advice;
  EXPECT_FALSE(contains(advice, "model.dropout")) << advice;  // a fine-tune keeps the checkpoint's architecture
  // The evaluation before step 1 has no training loss.
  if (alarms[0]["step"] == 75) {  // its window reaches back to step 0
    EXPECT_TRUE(alarms[0]["train_losses"][0].is_null()) << alarms[0].dump();
  }
}

TEST(PretrainOverfitE2E, TwoProcessesReportTheTrainingLossOfAllRanks) {
  // Each rank holds its share of a step's loss: the alarm's training losses are their sum, the
  // same as the train events' (log_every = eval_every: the same steps), about one process's.
  e2e::TempDir tmp;
  auto one = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("one"), memorising()));
  ASSERT_EQ(one.exit_code, 0) << one.text();
  auto two = e2e::run_ptft(e2e::concat({"launch", "--nproc", "2", "--"},
                                       e2e::spirals_args("pretrain", tmp.path("two"), memorising({"train.batch_size=32"}))),
                           {}, std::chrono::seconds(300));
  ASSERT_EQ(two.exit_code, 0) << two.text();
  const auto all = e2e::read_jsonl(tmp.path("two/metrics.jsonl"));
  const auto a = events_of(e2e::read_jsonl(tmp.path("one/metrics.jsonl")), "overfit"), b = events_of(all, "overfit");
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(b.size(), a.size()) << two.err;
  EXPECT_EQ(b[0]["step"], a[0]["step"]);
  std::vector<double> logged;  // train events' loss up to the alarm's step, the last 4
  for (const auto& e : events_of(all, "train"))
    if (e["step"].get<int64_t>() <= b[0]["step"].get<int64_t>()) logged.push_back(e["loss"].get<double>());
  ASSERT_GE(logged.size(), 4u);
  // The first logged losses agree closely: both runs sum the same examples' losses. Later the
  // float sums over ranks drift apart as the model memorises (8 % at the alarm on a Xeon with
  // avx512_fp16, measured 2026-12-06; the earlier 5 % tolerance held on the EPYC machines), so
  // there the check is only that the two-process values are the whole batch's, not one rank's half.
  const auto first_one = events_of(e2e::read_jsonl(tmp.path("one/metrics.jsonl")), "train").at(0);
  const auto first_two = events_of(all, "train").at(0);
  ASSERT_EQ(first_two["step"], first_one["step"]);
  EXPECT_NEAR(first_two["loss"].get<double>(), first_one["loss"].get<double>(), 1e-3 * first_one["loss"].get<double>());
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_NEAR(b[0]["train_losses"][k].get<double>(), logged[logged.size() - 4 + k], 1e-12);
    EXPECT_NEAR(b[0]["train_losses"][k].get<double>(), a[0]["train_losses"][k].get<double>(),
                0.3 * a[0]["train_losses"][k].get<double>());
  }
}

TEST(PretrainOverfitE2E, NoAlarmWhenTheModelGeneralises) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", run, {"train.eval_every=50"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  expect_no_alarm(r, run);
}

TEST(PretrainOverfitE2E, OverfitPatienceZeroTurnsItOff) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", run, memorising({"train.overfit_patience=0"})));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  expect_no_alarm(r, run);
}

}  // namespace
