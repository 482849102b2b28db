#include "ptft/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "ptft/core/error.h"

namespace ptft {

double LrSchedule::at(int64_t step) const {
  // Checked before warmup, so that a misspelt kind fails at step 1, not after the warmup.
  if (kind != "cosine" && kind != "linear" && kind != "constant")
    throw UserError("unknown LR schedule '" + kind + "'", "use cosine, linear or constant");
  if (warmup > 0 && step <= warmup) return lr * static_cast<double>(step) / static_cast<double>(warmup);
  if (kind == "constant") return lr;
  const int64_t span = std::max<int64_t>(1, steps - warmup);
  const double t = std::clamp(static_cast<double>(step - warmup) / static_cast<double>(span), 0.0, 1.0);
  const double lo = lr * min_ratio;
  if (kind == "cosine") return lo + 0.5 * (lr - lo) * (1.0 + std::cos(M_PI * t));
  return lr + (lo - lr) * t;  // linear
}

}  // namespace ptft
