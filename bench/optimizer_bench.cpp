// AdamW step: ptft's fused single-pass AdamW vs libtorch's torch::optim::AdamW (the peer:
// the same multi-pass tensor-op algorithm PyTorch eager runs), same parameters, same grads.
//
//   build/bench/ptft_bench_optimizer --benchmark_counters_tabular=true
// Each benchmark reports params/s; compare the two rows at the same size (ratio = speed-up).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "ptft/core/device.h"
#include "ptft/train/optimizer.h"

namespace {

// A GPT-like parameter set of about `millions` M parameters: a few big matrices + vectors.
std::vector<torch::Tensor> make_params(int64_t millions) {
  torch::manual_seed(0);
  std::vector<torch::Tensor> ps;
  int64_t remaining = millions * 1000000;
  while (remaining > 0) {
    int64_t rows = std::min<int64_t>(768, std::max<int64_t>(1, remaining / 3072));
    auto w = torch::randn({rows, 3072}).requires_grad_(true);
    auto b = torch::randn({3072}).requires_grad_(true);
    w.mutable_grad() = torch::randn_like(w);
    b.mutable_grad() = torch::randn_like(b);
    ps.push_back(w);
    ps.push_back(b);
    remaining -= w.numel() + b.numel();
  }
  return ps;
}

void BM_ptft_adamw(benchmark::State& state) {
  ptft::set_threads(0);
  auto ps = make_params(state.range(0));
  ptft::ParamGroup g;
  for (size_t i = 0; i < ps.size(); ++i) {
    g.names.push_back("p" + std::to_string(i));
    g.params.push_back(ps[i]);
  }
  g.weight_decay = 0.1;
  ptft::AdamW opt({g}, 0.9, 0.95, 1e-8);
  int64_t n = 0;
  for (auto& p : ps) n += p.numel();
  for (auto _ : state) opt.step(1e-4);
  state.counters["params_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_torch_adamw(benchmark::State& state) {
  ptft::set_threads(0);
  auto ps = make_params(state.range(0));
  torch::optim::AdamW opt(ps, torch::optim::AdamWOptions(1e-4).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1));
  int64_t n = 0;
  for (auto& p : ps) n += p.numel();
  for (auto _ : state) opt.step();
  state.counters["params_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_ptft_adamw)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_torch_adamw)->Arg(10)->Arg(50)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
