// Tests for ptft/run/strategy_search.h without training: the winner by mode (ties, trials
// without a value), trial_steps resolution and its error, the candidate list's validation (as
// the config binder runs it), the overrides of each strategy, and the record's schema (the
// metrics.jsonl event the HTML report reads).
#include "ptft/run/strategy_search.h"

#include <gtest/gtest.h>

#include <limits>

#include "../common/user_error.h"
#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

StrategyTrial trial(const std::string& s, std::optional<double> v) {
  StrategyTrial t;
  t.strategy = s;
  t.trial_steps = 5;
  t.value = v;
  return t;
}

TEST(StrategySearch, BestTrialFollowsTheMode) {
  const std::vector<StrategyTrial> t = {trial("head", 2.5), trial("freeze", 2.1), trial("lora", 2.3),
                                        trial("full", 2.9)};
  EXPECT_EQ(best_trial(t, "min"), std::optional<size_t>(1));
  EXPECT_EQ(best_trial(t, "max"), std::optional<size_t>(3));
}

TEST(StrategySearch, TiesGoToTheEarlierCandidateAndDivergedTrialsNeverWin) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(best_trial({trial("head", 1.0), trial("lora", 1.0)}, "min"), std::optional<size_t>(0));
  EXPECT_EQ(best_trial({trial("head", 1.0), trial("lora", 1.0)}, "max"), std::optional<size_t>(0));
  EXPECT_EQ(best_trial({trial("full", std::nullopt), trial("lora", 3.0), trial("head", nan)}, "min"),
            std::optional<size_t>(1));
  EXPECT_EQ(best_trial({trial("full", std::nullopt), trial("head", nan)}, "min"), std::nullopt);
  EXPECT_EQ(best_trial({}, "min"), std::nullopt);
}

TEST(StrategySearch, TrialStepsDefaultToATenthAndMustBeBelowTheRun) {
  AutoStrategyConfig a;
  EXPECT_EQ(resolve_trial_steps(a, 200, "x"), 20);
  EXPECT_EQ(resolve_trial_steps(a, 5, "x"), 1);  // at least one step (and its evaluation)
  a.trial_steps = 7;
  EXPECT_EQ(resolve_trial_steps(a, 200, "x"), 7);
  a.trial_steps = 12;
  const std::string err = test::user_error_of([&] { resolve_trial_steps(a, 12, "run.yaml:4"); });
  EXPECT_NE(err.find("run.yaml:4: finetune.auto.trial_steps is 12 but train.steps is only 12"), std::string::npos) << err;
  EXPECT_NE(err.find("trial_steps=1"), std::string::npos) << err;
  EXPECT_THROW(resolve_trial_steps(AutoStrategyConfig{}, 1, "x"), UserError);  // 1 step leaves no continuation
}

TEST(StrategySearch, CandidatesAreValidatedWhenTheConfigIsBound) {
  auto bind = [](const std::string& yaml) {
    TransferConfig t;
    config::bind(config::Document::from_string(yaml, "f.yaml"), t);
    return t;
  };
  EXPECT_EQ(bind("strategy: auto\n").auto_search.candidates,
            (std::vector<std::string>{"head", "freeze", "lora", "full"}));
  EXPECT_EQ(bind("strategy: auto\nauto: {candidates: [lora, head], trial_steps: 3}\n").auto_search.trial_steps, 3);
  const std::string unknown = test::user_error_of([&] { bind("auto: {candidates: [head, adapters]}\n"); });
  EXPECT_NE(unknown.find("unknown strategy 'adapters'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("head, freeze, lora, full"), std::string::npos) << unknown;
  EXPECT_NE(test::user_error_of([&] { bind("auto: {candidates: [lora, lora]}\n"); }).find("twice"), std::string::npos);
  EXPECT_NE(test::user_error_of([&] { bind("auto: {candidates: []}\n"); }).find("empty"), std::string::npos);
  EXPECT_NE(test::user_error_of([&] { bind("auto: {trial_steps: -1}\n"); }).find(">= 0"), std::string::npos);
  EXPECT_NE(test::user_error_of([&] { bind("strategy: auto\nunfreeze_after: 10\n"); }).find("cannot be combined"),
            std::string::npos);
}

TEST(StrategySearch, OverridesSetTheStrategyFreezeLayersAndTheScaledLr) {
  AutoStrategyConfig a;  // head x10, lora x3
  EXPECT_EQ(strategy_overrides("freeze", 3, a, 1e-3),
            (std::vector<std::string>{"finetune.strategy=freeze", "finetune.freeze_layers=3"}));
  EXPECT_EQ(strategy_overrides("full", 3, a, 1e-3),
            (std::vector<std::string>{"finetune.strategy=full", "finetune.freeze_layers=0"}));
  EXPECT_EQ(strategy_overrides("head", 3, a, 1e-3),
            (std::vector<std::string>{"finetune.strategy=head", "finetune.freeze_layers=0", "train.lr=0.01"}));
  EXPECT_EQ(strategy_overrides("lora", 3, a, 1e-3),
            (std::vector<std::string>{"finetune.strategy=lora", "finetune.freeze_layers=0", "train.lr=0.003"}));
  a.head_lr_scale = a.lora_lr_scale = 1;  // the same LR for every candidate
  EXPECT_EQ(strategy_overrides("head", 3, a, 1e-3).size(), 2u);
  EXPECT_EQ(strategy_overrides("lora", 3, a, 1e-3).size(), 2u);
}

TEST(StrategySearch, RecordHasTheReportSchemaAndTheTableMarksTheChoice) {
  StrategySearch s;
  s.metric = "val_loss";
  s.mode = "min";
  s.chosen = "lora";
  s.trials = {trial("head", 2.31), trial("lora", 2.05), trial("full", std::nullopt)};
  s.trials[0].trainable_parameters = 1234;
  s.trials[0].wall_seconds = 3.2;
  s.trials[2].error = "training diverged at step 3";
  const nlohmann::json j = s.to_json();
  EXPECT_EQ(j["metric"], "val_loss");
  EXPECT_EQ(j["mode"], "min");
  EXPECT_EQ(j["chosen"], "lora");
  ASSERT_EQ(j["candidates"].size(), 3u);
  EXPECT_EQ(j["candidates"][0], (nlohmann::json{{"strategy", "head"}, {"trial_steps", 5}, {"value", 2.31},
                                                {"trainable_parameters", 1234}, {"wall_seconds", 3.2}}));
  EXPECT_TRUE(j["candidates"][2]["value"].is_null());
  EXPECT_EQ(j["candidates"][2]["error"], "training diverged at step 3");

  const std::string table = s.table();
  EXPECT_NE(table.find("val_loss (lower is better)"), std::string::npos) << table;
  EXPECT_NE(table.find("> lora"), std::string::npos) << table;
  EXPECT_NE(table.find("  head"), std::string::npos) << table;
  EXPECT_NE(table.find("diverged"), std::string::npos) << table;
}

}  // namespace
}  // namespace ptft
