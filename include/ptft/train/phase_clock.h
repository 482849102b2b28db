// include/ptft/train/phase_clock.h — where a training run's time goes.
//
// Each lap() charges the time since the previous lap to one phase of a step: data (the next
// batch, on the device), forward, backward, sync (data-parallel gradient all-reduce), optimizer
// (gradient clipping, the update, EMA), eval, checkpoint, other (logging, callbacks). On CUDA a
// lap waits for the device first, so that each phase owns the time of the kernels it launched.
// A clock that is off does nothing (train.phase_times).
//
//   PhaseClock clock(device, /*on=*/true); // the clock runs from here
//   batch = prefetch.next(); clock.lap(Phase::Data);
//   clock.interval()                      // {"data": 0.01, "forward": 0.42, ...} s since the last call
//   clock.totals(), PhaseClock::shares_line(totals)   // "forward 31% | backward 52% | ..."
#pragma once

#include <array>
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

namespace ptft {

enum class Phase { Data, Forward, Backward, Sync, Optimizer, Eval, Checkpoint, Other };
inline constexpr std::size_t kPhaseCount = 8;
const char* phase_name(Phase p);

class PhaseClock {
 public:
  PhaseClock(c10::Device device, bool on);
  bool on() const { return on_; }
  void lap(Phase p);
  // Seconds per phase since the previous interval() (phases with time only).
  nlohmann::json interval();
  // Seconds per phase since construction, every phase.
  nlohmann::json totals() const;
  // "forward 31% | backward 52% | optimizer 9% | ..." of a totals() object, largest first,
  // phases under 0.5 % left out.
  static std::string shares_line(const nlohmann::json& totals);

 private:
  c10::Device device_;
  bool on_;
  double last_;
  std::array<double, kPhaseCount> total_{};
  std::array<double, kPhaseCount> at_interval_{};
};

}  // namespace ptft
