// ptft/train/precision_probe.h — `precision: auto` for convolutional models on a CPU: a
// training step timed in bf16 autocast and in fp32, the faster one kept.
//
// On a CPU with bf16 instructions `auto` means bf16 autocast, which is right for matmul-bound
// models (here AMX reaches ~2.3 TFLOP/s in bf16 matmuls against ~0.3 in fp32, docs/results.md). Convolutions are another matter: oneDNN
// 2.6's bf16 backward convolutions on AMX are slower than its fp32 ones at ResNet-18's 64-512
// channels (docs/results.md), so ResNet-18 at 32 px trains ~1.2x faster in fp32 while
// resnet-fmnist trains ~1.6-1.9x faster in bf16, on the same machine. For a convolutional model
// (ModelImpl::convolutional) the run therefore measures forward + backward of a training batch
// (half its first micro-batch, so that the fp32 step does not raise the run's peak memory): each
// precision once to warm up (oneDNN creates its kernels), then once each timed. A step under
// kProbeMinStepFlops stops after the first warm-up and stays bf16 (the model's FLOPs are known
// for the input's size only once it has seen one). fp32 is kept only when it is >= 10 % faster,
// so near-ties stay bf16. The model is left as it was: gradients dropped, buffers (BatchNorm
// statistics) and the CPU generator restored; oneDNN's cached kernels and the freed heap are
// released (the unchosen precision's kernels would stay for the run). Under data parallelism
// every rank measures and the sums decide, so all ranks choose alike.
//
//   if (may_probe(model, device, "auto"))
//     if (auto p = probe_precision(model, task, half_batch, device, all_reduce)) use(p->chosen);
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ptft/core/device.h"
#include "ptft/train/task.h"

namespace ptft {

struct PrecisionProbe {
  double fp32_ms = 0;  // forward + backward of the probed batch (summed over ranks)
  double bf16_ms = 0;
  Precision chosen;
};

// Probed batches below this many FLOPs (forward + backward) keep bf16 unmeasured: the probe's
// few steps and its timing noise would outweigh what a choice could gain.
constexpr double kProbeMinStepFlops = 2.5e9;  // a half batch of a 5 GFLOP step

// Whether `auto` on `device` may measure for this model: precision `spec` is auto, the device a
// CPU with bf16 instructions, the model convolutional.
bool may_probe(const ModelImpl& model, const c10::Device& device, const std::string& spec);

// Times `batch` (already on `device`) as described above; nothing when its step is under
// kProbeMinStepFlops (3 x flops_per_unit x batch.weight). all_reduce: sums a tensor over ranks in
// place (empty = one process).
std::optional<PrecisionProbe> probe_precision(ModelImpl& model, Task& task, const Batch& batch,
                                              const c10::Device& device,
                                              const std::function<void(torch::Tensor&)>& all_reduce = {});

}  // namespace ptft
