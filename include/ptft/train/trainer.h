// ptft/train/trainer.h — the only training loop, for every model family and task.
//
// Pre-training and fine-tuning are both Trainer::fit; fine-tuning differs only in what the
// caller did before (a TransferPlan: loaded weights, frozen parameters, per-group LRs).
//
// Per step: fetch grad_accum micro-batches (prefetched), backward each with loss_sum / units
// of the whole effective batch (exact accumulation), clip, optimizer step with the scheduled LR.
// Every eval_every steps: evaluate, keep `best`, early-stop on patience, add a row to
// run_dir/results.csv (train/results_csv.h). Every save_every steps: checkpoint `last`.
// SIGINT/SIGTERM: checkpoint and return. Non-finite loss: UserError, the last good checkpoint
// untouched.
//
// Overfitting alarm (train.overfit_patience, train/overfit_watch.h): at every evaluation the
// validation loss and the mean training loss since the previous evaluation go to an OverfitWatch;
// when it fires, rank 0 warns on stderr with advice (train/overfit_advice.h, from ctx.overfit)
// and writes an `overfit` event to metrics.jsonl; FitResult::overfit_steps lists the steps.
//
// train.ema > 0 keeps a moving average of the weights (train/ema.h), updated after every
// optimizer step: evaluations, `best` and every checkpoint's model.safetensors (and LoRA adapter
// files written by checkpoint_extras) use the average; the raw weights go to
// training_model.safetensors for --resume, and stay in `model` (also after fit returns).
//
// Data-parallel (ctx.group set): every rank trains on its slice of each step's batch (the data
// sources read by rank); the loss is normalised by the units of all ranks' micro-batches and the
// gradients summed over ranks in buckets (dist/grad_sync.h), so W processes with batch B take the
// steps one process takes with batch W*B. Rank 0 alone evaluates, logs, writes results.csv and
// checkpoints; the others wait for its decisions (early stop) and stop at the same step on a
// signal. Logged loss, units/s and units_seen are over all ranks.
//
//   Trainer t(cfg.train, ctx);
//   FitResult r = t.fit(model, task, train_src, &val_src, *optimizer, resume_ckpt_or_null);
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/core/device.h"
#include "ptft/core/error.h"
#include "ptft/core/log.h"
#include "ptft/data/data_source.h"
#include "ptft/dist/process_group.h"
#include "ptft/io/checkpoint.h"
#include "ptft/models/model.h"
#include "ptft/train/optimizer.h"
#include "ptft/train/ema.h"
#include "ptft/train/overfit_advice.h"
#include "ptft/train/phase_clock.h"
#include "ptft/train/task.h"
#include "ptft/train/train_config.h"

namespace ptft {

struct TrainerContext {
  std::string run_dir;                 // checkpoints go to run_dir/checkpoints
  MetricsLog* metrics = nullptr;       // events (may be null in unit tests)
  c10::Device device = c10::Device("cpu");
  Precision precision;
  nlohmann::json checkpoint_config;    // config.json written into every checkpoint
  std::string resume_command;          // printed when interrupted
  // Extra evaluation sets reported next to val (e.g. "general" to watch forgetting).
  std::vector<std::pair<std::string, DataSource*>> extra_evals;
  bool quiet = false;                  // no progress output (tests)
  // Evaluate once before the first step (fine-tuning: the starting point of every curve).
  bool eval_at_start = false;
  // Called before each step s (1-based) is taken, and with the first step before training
  // starts (gradual unfreezing). A non-empty return is logged.
  std::function<std::string(ModelImpl&, int64_t step)> before_step;
  // Writes extra files into each checkpoint directory being saved (tokenizer/, adapters).
  std::function<void(const std::string& dir, ModelImpl&)> checkpoint_extras;
  // The data-parallel group this process trains in; null = one process.
  ProcessGroup* group = nullptr;
  // Stop after this step as if the run ended there (evaluate, checkpoint, return) while the
  // LR schedule still spans cfg.steps, so --resume continues it exactly; 0 = at cfg.steps.
  // (Strategy search trials, run/strategy_search.h.)
  int64_t stop_after_step = 0;
  // What the run trains, for the advice of the overfitting alarm (defaults: unknown).
  OverfitContext overfit;
};

// The loss or the gradient norm became non-finite: a UserError (exit 1) that a strategy search
// can tell from configuration errors (a diverging candidate loses instead of ending the search).
class TrainingDiverged : public UserError {
 public:
  using UserError::UserError;
};

struct FitResult {
  int64_t step = 0;                 // last completed step
  bool interrupted = false;         // stopped by SIGINT/SIGTERM (checkpoint written)
  bool early_stopped = false;
  nlohmann::json first_eval;        // metrics before the first step (eval_at_start)
  nlohmann::json last_eval;         // metrics of the final evaluation (prefixed val_...)
  double best_metric = 0;
  int64_t best_step = -1;
  double wall_seconds = 0;          // this process's fit()
  double elapsed_seconds = 0;       // training seconds since step 0, resumed processes included
  int64_t units_seen = 0;           // examples or tokens trained on since step 0 (all ranks, resumes included)
  std::vector<int64_t> overfit_steps;  // evaluations at which the overfitting alarm fired
  nlohmann::json phase_seconds;     // this process's fit() by phase (PhaseClock::totals)
};

class Trainer {
 public:
  Trainer(TrainConfig cfg, TrainerContext ctx);
  // Trains `model` in place. `resume` (optional) restores optimizer, trainer state and RNG
  // from a checkpoint whose weights the caller already loaded into `model`.
  FitResult fit(ModelImpl& model, Task& task, DataSource& train, DataSource* val, Optimizer& opt,
                const Checkpoint* resume = nullptr);

  // Evaluates `model` on `src` (whole split or cfg.eval_batches batches), under no_grad.
  nlohmann::json evaluate(ModelImpl& model, Task& task, DataSource& src);

  // One optimizer step's gradient: backward of every micro-batch with loss_sum / total units
  // (`total_units`: of every rank's micro-batches; 0 = these micro-batches' own). Returns the
  // loss of these micro-batches per total unit (the mean loss of the step in one process; summed
  // over ranks, the mean of the whole data-parallel step). Exposed for tests.
  double accumulate_gradients(ModelImpl& model, Task& task, const std::vector<Batch>& micro_batches,
                              int64_t total_units = 0);

 private:
  nlohmann::json trainer_state(int64_t step, const FitResult& r, int64_t bad_evals, const ModelEma* ema,
                               double elapsed_s) const;
  void save(CheckpointSet& set, int64_t step, ModelImpl& model, Optimizer& opt, const FitResult& r,
            int64_t bad_evals, const ModelEma* ema, double elapsed_s);
  Batch to_device(Batch b) const;
  bool main_rank() const { return ctx_.group == nullptr || ctx_.group->rank() == 0; }

  TrainConfig cfg_;
  TrainerContext ctx_;
  PhaseClock* clock_ = nullptr;  // fit()'s, while it runs: accumulate_gradients times its phases
};

}  // namespace ptft
