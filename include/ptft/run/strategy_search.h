// ptft/run/strategy_search.h — `finetune.strategy: auto`: which transfer strategy suits this
// checkpoint and this data, measured rather than guessed.
//
// Every candidate of finetune.auto.candidates (head, freeze, lora, full) trains for
// finetune.auto.trial_steps steps in RUN_DIR/trials/<strategy>/: a normal run of the same config
// with that strategy, on the whole train.steps schedule (warmup + decay), stopped after the trial
// steps (TrainerContext::stop_after_step) and evaluated there. The trial with the best
// train.metric (train.mode) is continued, not restarted: its checkpoints, metrics.jsonl and
// results.csv seed RUN_DIR, which resumes to train.steps. RUN_DIR is then a normal run of the
// chosen strategy (config.yaml names it; eval/generate/predict --model RUN_DIR and --resume work)
// and its weights are those of running `finetune.strategy: <chosen>` directly (the data and
// the schedule depend on the step only). Budget: trial_steps per candidate, plus
// train.steps - trial_steps for the continuation (the winner's trial steps count).
//
//   finetune: {strategy: auto, auto: {candidates: [head, lora, full], trial_steps: 50}}
//
// freeze freezes finetune.freeze_layers blocks or, when that is 0, half the model's blocks (at
// least 1); the other candidates train with freeze_layers 0. Equal values go to the earlier
// candidate (the default order is cheapest first). A trial whose loss becomes non-finite loses;
// any other error ends the search, naming the trial. The comparison is printed on stderr and
// recorded in RUN_DIR/strategy_search.json, a `strategy_search` event of RUN_DIR/metrics.jsonl
// and summary.json's "strategy_search" (all the same object, see StrategySearch::to_json).
// Until the winner has seeded RUN_DIR, RUN_DIR/config.yaml is the auto config itself.
//
// --resume: finished trials are kept, an interrupted one continues; once strategy_search.json
// exists the final run resumes like any run (also with `--config RUN_DIR/config.yaml`).
// One process only: under `ptft launch` strategy auto is a UserError.
//
//   RunOutcome out = run_strategy_search(req, doc, cfg, run_dir);   // run_training delegates
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ptft/run/run.h"
#include "ptft/run/run_config.h"

namespace ptft {

struct StrategyTrial {
  std::string strategy;
  int64_t trial_steps = 0;           // steps the trial trained
  std::optional<double> value;       // train.metric at its last step; empty: it diverged
  int64_t trainable_parameters = 0;
  double wall_seconds = 0;           // the trial's training time
  std::string error;                 // why there is no value
};

struct StrategySearch {
  std::string metric;                // train.metric, e.g. val_loss
  std::string mode;                  // min | max
  std::string chosen;
  std::vector<StrategyTrial> trials;  // in candidate order

  // {"metric","mode","chosen","candidates":[{"strategy","trial_steps","value",
  //  "trainable_parameters","wall_seconds"}, ...]} ("value": null and "error" for a diverged one)
  nlohmann::json to_json() const;
  // The comparison for stderr: one row per trial, the chosen one marked with '>'.
  std::string table() const;
};

// finetune.auto.trial_steps, 0 resolved to 10 % of train.steps (at least 1). UserError when it is
// not below train.steps (`origin`: where trial_steps was set).
int64_t resolve_trial_steps(const AutoStrategyConfig& cfg, int64_t train_steps, const std::string& origin);
// The index of the best trial by `mode` (min | max); trials without a (finite) value never win,
// ties go to the earlier one. nullopt when no trial has a value.
std::optional<size_t> best_trial(const std::vector<StrategyTrial>& trials, const std::string& mode);
// The --set overrides that turn the auto config into the run of `strategy`: the strategy, its
// freeze_layers, and for head / lora train.lr = lr x finetune.auto.head_lr_scale / lora_lr_scale.
std::vector<std::string> strategy_overrides(const std::string& strategy, int64_t freeze_layers,
                                            const AutoStrategyConfig& search, double lr);
// RUN_DIR/strategy_search.json when the run was seeded by a strategy search (for summary.json).
std::optional<nlohmann::json> read_strategy_search(const std::string& run_dir);

// The whole `ptft finetune` run with finetune.strategy auto (see above).
RunOutcome run_strategy_search(const RunRequest& req, const config::Document& doc, const RunConfig& cfg,
                               const std::string& run_dir);

}  // namespace ptft
