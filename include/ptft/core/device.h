// ptft/core/device.h — turning `device: auto|cpu|cuda[:N]`, `precision: auto|fp32|bf16` and
// `threads: N` into what the run uses, with an error that says what is missing.
//
//   torch::Device dev = resolve_device("auto");        // cuda:0 when present, else cpu
//   Precision p = resolve_precision("auto", dev);       // bf16 only where it is fast
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace ptft {

c10::Device resolve_device(const std::string& spec);

struct Precision {
  std::string name = "fp32";            // "fp32" | "bf16"
  bool autocast = false;                // forward passes under autocast
  c10::ScalarType dtype = c10::kFloat;  // autocast dtype (master weights stay fp32)
};
Precision resolve_precision(const std::string& spec, const c10::Device& device);

// Intra-op threads. threads <= 0: OMP_NUM_THREADS when set, else every CPU this process may run
// on (libtorch's own default undercounts on some VMs).
void set_threads(int threads);
int available_cpus();

// Matrix-multiply throughput this process reaches on `device` in `precision` (TFLOP/s): a
// square matmul timed after a warm-up, ~0.1-0.5 s. The denominator of MFU in training logs
// when train.peak_tflops is not given (an achievable peak, not the datasheet's).
double measure_matmul_tflops(const c10::Device& device, const Precision& precision);

}  // namespace ptft
