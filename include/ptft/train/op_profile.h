// ptft/train/op_profile.h — where a training step's time goes, op by op (train.profile_steps):
// libtorch's profiler, input shapes recorded, around a few optimizer steps, then tables of each
// op's self time per step (its time minus the ops it called), written to RUN/profile.md: every op
// by name, and the 50 largest by name and input shapes.
//
//   OpProfile prof(run_dir + "/profile.md", /*first=*/3, /*steps=*/cfg.profile_steps);  // 0: off
//   prof.before_step(s);  ...step s...  prof.after_step(s);
//   prof.finish();        // after the loop: a run that ended inside the window writes what it has
//
// libtorch's ops appear by name (aten::mm, aten::addmm with their shapes); ptft's fused ops under
// ptft:: (RECORD_FUNCTION in each, forward; their backward as the autograd node
// torch::autograd::CppNode<...>). The profiler costs time of its own on small ops (15-150 % of a
// step on the xeon machine): the table is for shares, and those steps' throughput in
// metrics.jsonl is lower. Ops on the calling thread only (where libtorch dispatches on the CPU;
// the backward too); CUDA kernels' device time is not measured.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ptft {

class OpProfile {
 public:
  OpProfile(std::string path, int64_t first, int64_t steps);
  ~OpProfile();
  OpProfile(const OpProfile&) = delete;
  OpProfile& operator=(const OpProfile&) = delete;

  // Profiles steps first .. first + steps - 1 (each step alone: evaluations and checkpoints
  // between them are left out); the table is written after the last.
  void before_step(int64_t step);
  void after_step(int64_t step);
  void finish();  // a run that ended inside the window: writes the steps profiled so far

 private:
  struct Tally;  // self time per op and shapes, summed over the profiled steps
  void write();
  std::string path_;
  int64_t first_, steps_;
  int64_t profiled_ = 0;  // steps completed under the profiler
  bool running_ = false, written_ = false;
  std::unique_ptr<Tally> tally_;
};

}  // namespace ptft
