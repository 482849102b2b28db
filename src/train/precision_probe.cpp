// precision: auto for convolutional models on a CPU, measured (see ptft/train/precision_probe.h).
#include "ptft/train/precision_probe.h"

#include <ATen/CPUGeneratorImpl.h>
#include <dlfcn.h>
#include <malloc.h>

#include <chrono>
#include <mutex>

#include "ptft/core/compat.h"

namespace ptft {

namespace {

// What a probe step changes in the model, the task and the process, put back afterwards.
class ProbeRestore {
 public:
  ProbeRestore(ModelImpl& model, Task& task) : model_(model), task_(task), training_(model.is_training()) {
    for (const auto& b : model.buffers()) buffers_.push_back(b.detach().clone());
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng_ = gen.get_state();
  }
  ~ProbeRestore() {
    torch::NoGradGuard ng;
    auto buffers = model_.buffers();
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(buffers_[i]);
    for (auto& p : model_.parameters()) p.mutable_grad() = torch::Tensor();
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng_);
    model_.train(training_);
    task_.take_loss_components();  // the probe's steps are not the first step's
  }
  ProbeRestore(const ProbeRestore&) = delete;
  ProbeRestore& operator=(const ProbeRestore&) = delete;

 private:
  ModelImpl& model_;
  Task& task_;
  bool training_;
  std::vector<torch::Tensor> buffers_;
  torch::Tensor rng_;
};

// The probe's leftovers in the process: oneDNN's cached primitives of the precision not chosen
// (~20 MB of bf16 ones for ResNet-18, kept for the run) and the freed heap. Without this a run
// that the probe turned to fp32 peaked ~25 MB above an fp32 run (docs/results.md). The oneDNN
// entry points are looked up, not linked: libtorch loads its own oneDNN (or none).
void release_probe_memory() {
  using GetCapacity = int (*)(int*);
  using SetCapacity = int (*)(int);
  auto get = reinterpret_cast<GetCapacity>(dlsym(RTLD_DEFAULT, "dnnl_get_primitive_cache_capacity"));
  auto set = reinterpret_cast<SetCapacity>(dlsym(RTLD_DEFAULT, "dnnl_set_primitive_cache_capacity"));
  int capacity = 0;
  if (get && set && get(&capacity) == 0) {
    set(0);  // empties the cache
    set(capacity);
  }
  malloc_trim(0);
}

// Milliseconds of one forward (under `p`) + backward of `batch`; gradients dropped after.
double step_ms(ModelImpl& model, Task& task, const Batch& batch, const c10::Device& device, const Precision& p) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::Tensor loss;
  {
    compat::AutocastGuard amp(device.type(), p.dtype, p.autocast);
    loss = task.loss_sum(model, batch);
  }
  loss.backward();
  (void)loss.item<double>();  // waits for the device
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  for (auto& prm : model.parameters()) prm.mutable_grad() = torch::Tensor();
  return ms;
}

}  // namespace

bool may_probe(const ModelImpl& model, const c10::Device& device, const std::string& spec) {
  if (spec != "auto" || !device.is_cpu() || !model.convolutional()) return false;
  return resolve_precision(spec, device).autocast;  // without bf16 instructions: fp32, unmeasured
}

std::optional<PrecisionProbe> probe_precision(ModelImpl& model, Task& task, const Batch& batch,
                                              const c10::Device& device,
                                              const std::function<void(torch::Tensor&)>& all_reduce) {
  const Precision bf16 = resolve_precision("bf16", device), fp32 = resolve_precision("fp32", device);
  PrecisionProbe r;
  {
    ProbeRestore restore(model, task);
    model.train();
    step_ms(model, task, batch, device, bf16);  // warm-up; the model now knows its input's size
    const double flops = 3.0 * model.flops_per_unit() * static_cast<double>(batch.weight);
    if (flops < kProbeMinStepFlops) return std::nullopt;
    step_ms(model, task, batch, device, fp32);
    torch::Tensor t = torch::tensor({step_ms(model, task, batch, device, fp32), step_ms(model, task, batch, device, bf16)},
                                    torch::kDouble);
    if (all_reduce) all_reduce(t);
    r.fp32_ms = t[0].item<double>();
    r.bf16_ms = t[1].item<double>();
  }
  release_probe_memory();
  r.chosen = r.fp32_ms < 0.9 * r.bf16_ms ? fp32 : bf16;
  return r;
}

}  // namespace ptft
