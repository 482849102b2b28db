#include "ptft/train/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "ptft/core/fs.h"

namespace ptft {
namespace {

namespace prof = torch::autograd::profiler;

struct OpTime {
  double self_us = 0;
  int64_t calls = 0;
};

std::string shapes_of(const prof::LegacyEvent& e) {
  std::string s;
  for (const auto& shape : e.shapes()) {
    s += "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    s += "]";
  }
  return s;
}

using OpTimes = std::map<std::pair<std::string, std::string>, OpTime>;  // (op, input shapes)

// Adds each push/pop pair's self time (its time minus its children's) to `ops`; top-level time to
// `top_us`.
void add_self_times(const prof::thread_event_lists& lists, OpTimes& ops, double& top_us) {
  for (const auto& list : lists) {
    std::vector<std::pair<const prof::LegacyEvent*, double>> open;  // push event, children's time
    for (const auto& e : list) {
      const std::string kind = e.kindStr();
      if (kind == "push") {
        open.emplace_back(&e, 0.0);
      } else if (kind == "pop" && !open.empty()) {
        const auto [push, children] = open.back();
        open.pop_back();
        const double us = push->cpuElapsedUs(e);
        OpTime& t = ops[{push->name(), shapes_of(*push)}];
        t.self_us += us - children;
        ++t.calls;
        if (open.empty()) top_us += us;
        else open.back().second += us;
      }
    }
  }
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The `rows` largest self times as a markdown table, the rest summed in a last row.
void table(std::ostringstream& out, const OpTimes& ops, double steps, double total_us, size_t rows, bool with_shapes) {
  std::vector<std::pair<OpTimes::key_type, OpTime>> sorted(ops.begin(), ops.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  out << (with_shapes ? "| op | input shapes | calls/step | self ms/step | share |\n|---|---|---:|---:|---:|\n"
                      : "| op | calls/step | self ms/step | share |\n|---|---:|---:|---:|\n");
  double rest = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [key, t] = sorted[i];
    if (i >= rows) {
      rest += t.self_us;
      continue;
    }
    out << "| " << key.first << " | ";
    if (with_shapes) out << (key.second.empty() ? "-" : key.second) << " | ";
    out << fmt("%.1f", static_cast<double>(t.calls) / steps) << " | " << fmt("%.2f", t.self_us / 1000 / steps) << " | "
        << fmt("%.1f%%", 100 * t.self_us / total_us) << " |\n";
  }
  if (rest > 0)
    out << "| (the other ops) | " << (with_shapes ? "| " : "") << "| " << fmt("%.2f", rest / 1000 / steps) << " | "
        << fmt("%.1f%%", 100 * rest / total_us) << " |\n";
}

}  // namespace

struct OpProfile::Tally {
  OpTimes ops;
  double top_us = 0;
};

OpProfile::OpProfile(std::string path, int64_t first, int64_t steps)
    : path_(std::move(path)), first_(first), steps_(steps), tally_(std::make_unique<Tally>()) {}

OpProfile::~OpProfile() {
  if (running_) prof::disableProfilerLegacy();  // an exception inside a step: nothing written
}

void OpProfile::before_step(int64_t step) {
  if (steps_ <= 0 || running_ || written_ || step < first_ || step >= first_ + steps_) return;
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU,
                                                                   /*report_input_shapes=*/true));
  running_ = true;
}

void OpProfile::after_step(int64_t step) {
  if (!running_) return;
  running_ = false;
  add_self_times(prof::disableProfilerLegacy(), tally_->ops, tally_->top_us);
  ++profiled_;
  if (step >= first_ + steps_ - 1) write();
}

void OpProfile::finish() {
  if (running_) {
    running_ = false;
    prof::disableProfilerLegacy();  // a step that did not complete is not counted
  }
  if (profiled_ > 0 && !written_) write();
}

void OpProfile::write() {
  written_ = true;
  OpTimes by_name;
  double total_us = 0;
  for (const auto& [key, t] : tally_->ops) {
    OpTime& n = by_name[{key.first, ""}];
    n.self_us += t.self_us;
    n.calls += t.calls;
    total_us += t.self_us;
  }
  const double steps = static_cast<double>(profiled_);
  std::ostringstream out;
  out << "# Where a training step's time goes, op by op\n\n"
      << profiled_ << " optimizer step(s) from step " << first_ << " under libtorch's profiler (train.profile_steps), "
      << "each step alone: CPU time on the calling thread per step, self = an op's time minus the ops it called; "
      << fmt("%.1f", tally_->top_us / 1000 / steps) << " ms/step in ops in all. The profiler slows small ops: read "
      << "the shares. ptft's fused ops are ptft::..., their backward torch::autograd::CppNode<...>.\n\n"
      << "## By op\n\n";
  table(out, by_name, steps, total_us, by_name.size(), false);
  out << "\n## By op and input shapes\n\n";
  table(out, tally_->ops, steps, total_us, 50, true);
  fs::write_file_atomic(path_, out.str());
}

}  // namespace ptft
