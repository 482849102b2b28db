// The settle_precision phase of run_training (run_state.h): `precision: auto` for a convolutional
// model on a CPU is measured (ptft/train/precision_probe.h) when a run starts and kept when it
// resumes, so that a resumed run computes exactly as the uninterrupted one would.
#include <algorithm>
#include <cstdio>

#include "ptft/core/error.h"
#include "run_state.h"

namespace ptft {

namespace {

void choose(RunState& s) {
  const TrainConfig& t = s.cfg.train;
  if (t.precision != "auto") return;
  if (s.resume) {  // what the run chose (checkpoints before this record none: auto as resolved)
    const nlohmann::json& state = s.resume->trainer_state;
    if (!state.is_object() || !state.contains("precision")) return;
    const nlohmann::json& p = state["precision"];
    if (!p.is_string() || (p != "fp32" && p != "bf16"))
      throw UserError(s.ckpt_root + "/last/trainer_state.json: precision " + p.dump() + " is neither \"fp32\" nor \"bf16\"",
                      "the file was edited or damaged; resume with --precision fp32 or --precision bf16");
    s.precision = resolve_precision(p.get<std::string>(), s.device);
    return;
  }
  if (!may_probe(*s.model, s.device, t.precision)) return;
  // Half the first micro-batch: its fp32 step holds about what the bf16 run will, so the probe
  // does not raise the run's peak memory (a whole one raised resnet-fmnist's by ~30 %).
  const Batch first = s.train_src->train_batch({0, 0, std::max<int64_t>(1, t.batch_size / 2), t.grad_accum});
  std::function<void(torch::Tensor&)> sum;
  if (s.group) sum = [&s](torch::Tensor& x) { s.group->all_reduce_sum(x, "the precision probe's timings"); };
  s.precision_probe = probe_precision(*s.model, *s.task, first, s.device, sum);
  if (!s.precision_probe) return;
  s.precision = s.precision_probe->chosen;
  s.cfg.train.precision = s.precision.name;  // the run's config.yaml records the choice
}

}  // namespace

void settle_precision(RunState& s) {
  if (s.finished) return;
  choose(s);
  if (s.quiet) return;
  std::string line = "device: " + s.device.str() + " | precision: " + s.precision.name;
  if (s.precision_probe) {
    char why[160];
    std::snprintf(why, sizeof why, " (auto: a training step took %.1f ms in bf16, %.1f ms in fp32; "
                  "train.precision chooses)", s.precision_probe->bf16_ms, s.precision_probe->fp32_ms);
    line += why;
  }
  log_info(line);
}

}  // namespace ptft
