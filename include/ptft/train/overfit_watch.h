// ptft/train/overfit_watch.h — the overfitting alarm: validation loss rising while the training
// loss keeps falling (train.overfit_patience, train.overfit_margin).
//
// Fed at every evaluation with the validation loss and the mean training loss of the steps since
// the previous evaluation. The watched metric is always the validation *loss*, whatever
// train.metric selects the best checkpoint by: accuracy or mAP can hold while the loss (the
// model's confidence in its wrong answers) already says the model memorises.
//
// The rule, with N = patience and m = margin (relative):
//   best    = the lowest validation loss so far, and the training loss at that evaluation
//   risen   = val_loss > best * (1 + m)
//   fires when the last N evaluations have all risen and train_loss < train_at_best * (1 - m).
// Why against the best rather than "each evaluation higher than the one before": a validation
// loss that overfits climbs with wiggles, and a strictly rising chain breaks at every wiggle, so
// the alarm would come late or never; every evaluation that has lost ground against the best
// counts. The margin keeps evaluations within noise of the best from counting (an evaluation in
// between, neither a new best nor risen, breaks the chain), and is relative so that one value fits
// a classifier's 0.05 and a language model's 3.0. The training loss must have fallen over the same
// evaluations: when it rises too, the run diverges (learning rate too high), which is not
// overfitting; when both stay flat, it has converged.
//
// One alarm per episode: after firing the watch stays silent until the validation loss reaches
// a new best, and may fire again when it then rises anew. The evaluation before training (a
// fine-tune's step 0) has no training loss (NaN): its evaluation can be the best, and the first
// training loss measured after it stands in for the training loss at the best. Non-finite
// validation losses are ignored. The state is not checkpointed: a resumed run watches afresh.
//
//   OverfitWatch watch(cfg.overfit_patience, cfg.overfit_margin);
//   if (auto alarm = watch.add(step, val_loss, train_loss_since_last_eval))
//     log_warn(...alarm->val_losses...);
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ptft {

// What set the alarm off: the last N+1 evaluations (oldest first; the first is the one before
// the rise began, or an earlier risen one) and the best.
struct OverfitAlarm {
  int64_t step = 0;                  // the evaluation that fired
  std::vector<int64_t> steps;        // of the last N+1 evaluations
  std::vector<double> val_losses;
  std::vector<double> train_losses;  // NaN where there was none (before the first step)
  int64_t best_step = 0;             // the lowest validation loss so far
  double best_val_loss = 0;
};

class OverfitWatch {
 public:
  // patience 0 = off (add never fires); margin >= 0.
  OverfitWatch(int64_t patience, double margin);
  bool enabled() const { return patience_ > 0; }
  // One evaluation; returns the alarm when this one sets it off.
  std::optional<OverfitAlarm> add(int64_t step, double val_loss, double train_loss);

 private:
  struct Eval {
    int64_t step;
    double val, train;
  };
  int64_t patience_;
  double margin_;
  std::vector<Eval> recent_;  // the last patience + 1 evaluations
  bool has_best_ = false;
  Eval best_{0, 0, 0};
  int64_t risen_ = 0;         // consecutive evaluations above best * (1 + margin)
  bool fired_ = false;        // in this episode (reset by a new best)
};

}  // namespace ptft
