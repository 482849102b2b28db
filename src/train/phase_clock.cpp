#include "ptft/train/phase_clock.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <torch/cuda.h>

#include "ptft/core/log.h"

namespace ptft {

const char* phase_name(Phase p) {
  static constexpr std::array<const char*, kPhaseCount> kNames = {
      "data", "forward", "backward", "sync", "optimizer", "eval", "checkpoint", "other"};
  return kNames[static_cast<std::size_t>(p)];
}

PhaseClock::PhaseClock(c10::Device device, bool on) : device_(device), on_(on), last_(now_seconds()) {}

void PhaseClock::lap(Phase p) {
  if (!on_) return;
  if (device_.is_cuda()) torch::cuda::synchronize(device_.has_index() ? device_.index() : -1);
  const double now = now_seconds();
  total_[static_cast<std::size_t>(p)] += now - last_;
  last_ = now;
}

nlohmann::json PhaseClock::interval() {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < kPhaseCount; ++i) {
    const double s = total_[i] - at_interval_[i];
    if (s > 0) j[phase_name(static_cast<Phase>(i))] = s;
  }
  at_interval_ = total_;
  return j;
}

nlohmann::json PhaseClock::totals() const {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < kPhaseCount; ++i) j[phase_name(static_cast<Phase>(i))] = total_[i];
  return j;
}

std::string PhaseClock::shares_line(const nlohmann::json& totals) {
  double sum = 0;
  std::vector<std::pair<double, std::string>> parts;
  for (auto& [name, v] : totals.items()) {
    sum += v.get<double>();
    parts.emplace_back(v.get<double>(), name);
  }
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string line;
  for (const auto& [s, name] : parts) {
    if (sum <= 0 || s / sum < 0.005) continue;
    line += (line.empty() ? "" : " | ") + name + " " + std::to_string(std::lround(100 * s / sum)) + "%";
  }
  return line;
}

}  // namespace ptft
