#include "ptft/train/overfit_watch.h"

#include <cmath>

#include "ptft/core/error.h"

namespace ptft {

OverfitWatch::OverfitWatch(int64_t patience, double margin) : patience_(patience), margin_(margin) {
  PTFT_CHECK(patience >= 0 && margin >= 0, "OverfitWatch needs patience >= 0 and margin >= 0");
}

std::optional<OverfitAlarm> OverfitWatch::add(int64_t step, double val_loss, double train_loss) {
  if (!enabled() || !std::isfinite(val_loss)) return std::nullopt;
  recent_.push_back({step, val_loss, train_loss});
  if (static_cast<int64_t>(recent_.size()) > patience_ + 1) recent_.erase(recent_.begin());

  if (!has_best_ || val_loss < best_.val) {  // a new best starts a new episode
    has_best_ = true;
    best_ = recent_.back();
    risen_ = 0;
    fired_ = false;
    return std::nullopt;
  }
  // Before training there is no training loss: the first one measured after stands in.
  if (std::isnan(best_.train) && std::isfinite(train_loss)) best_.train = train_loss;
  risen_ = val_loss > best_.val * (1 + margin_) ? risen_ + 1 : 0;
  const bool train_fell = std::isfinite(train_loss) && train_loss < best_.train * (1 - margin_);
  if (fired_ || risen_ < patience_ || !train_fell) return std::nullopt;

  fired_ = true;
  OverfitAlarm a;
  a.step = step;
  for (const Eval& e : recent_) {
    a.steps.push_back(e.step);
    a.val_losses.push_back(e.val);
    a.train_losses.push_back(e.train);
  }
  a.best_step = best_.step;
  a.best_val_loss = best_.val;
  return a;
}

}  // namespace ptft
