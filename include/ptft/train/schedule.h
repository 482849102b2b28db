// ptft/train/schedule.h — learning rate by step: linear warmup, then cosine, linear or constant.
//
//   LrSchedule s{"cosine", 3e-4, /*warmup=*/100, /*steps=*/2000, /*min_ratio=*/0.1};
//   double lr = s.at(step);   // step is 1-based: the update about to be applied
#pragma once

#include <cstdint>
#include <string>

namespace ptft {

struct LrSchedule {
  std::string kind = "cosine";  // cosine | linear | constant
  double lr = 3e-4;             // peak LR, reached at the end of warmup
  int64_t warmup = 0;           // steps of linear warmup from lr/warmup to lr
  int64_t steps = 1;            // total steps; decay ends here
  double min_ratio = 0.1;       // cosine/linear decay to lr * min_ratio
  double at(int64_t step) const;
};

}  // namespace ptft
