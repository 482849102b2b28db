// ptft/run/run.h — a whole training run as `ptft pretrain` / `ptft finetune` perform it:
// config → run directory → env report → model (fresh or from a checkpoint) → data → Trainer.
//
// RUN_DIR/ gets config.yaml (the resolved config: re-running with it reproduces the run),
// metrics.jsonl, checkpoints/{step-*,last,best} and summary.json. `finetune.strategy: auto`
// hands the whole run to run_strategy_search (run/strategy_search.h).
//
//   RunRequest req;  req.command = "pretrain";  req.config_path = "configs/x.yaml";
//   RunOutcome out = run_training(req);
#pragma once

#include <string>
#include <vector>

#include "ptft/train/trainer.h"

namespace ptft {

struct RunRequest {
  std::string command = "pretrain";  // pretrain | finetune
  std::string program = "ptft";      // how the program was invoked (argv[0]): printed commands use it
  std::string config_path;           // empty with resume: RUN_DIR/config.yaml
  std::vector<std::string> sets;     // "train.lr=1e-3" overrides, applied in order
  std::string out;                   // run directory; default runs/<config file stem>
  std::string from;                  // finetune: checkpoint directory (= finetune.from)
  bool resume = false;               // continue RUN_DIR from checkpoints/last
  bool quiet = false;
  bool report_env = true;            // print the environment report at the start (one per search)
  // Used by the strategy search (run/strategy_search.h) for its trials and final run:
  int64_t stop_after_step = 0;       // stop after this step, schedule unchanged (TrainerContext)
  std::string resume_command;        // printed on interrupt; empty = `ptft CMD ... --out RUN_DIR --resume`
};

struct RunOutcome {
  std::string run_dir;
  FitResult fit;
};

RunOutcome run_training(const RunRequest& req);

}  // namespace ptft
