// A projection's training step under CPU bf16 autocast (float32 weight and bias that train; GPT-2
// 124M's projections at B4 x T256 = 1024 rows, gpt-small's at B8 x T256 = 2048): ptft's nn::dense_linear vs libtorch's linear, forward + backward
// with the same input and gradient; and its two kernels alone against the libtorch ops they
// replace: the 16-bit transpose (nn::transpose16 vs dy.t().contiguous()) and the bias gradient's
// column sums (nn::column_sums_bf16 vs dy.sum(0, kFloat)).
//
//   build/bench/ptft_bench_linear_grad --benchmark_counters_tabular=true
// Arguments: in, out, rows. Compare the rows of one shape (ratio = speed-up).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include "ptft/core/compat.h"
#include "ptft/nn/column_sum_kernel.h"
#include "ptft/nn/dense_linear.h"
#include "ptft/nn/transpose_kernel.h"

namespace {

template <class F>
void step(benchmark::State& state, F&& linear) {
  const int64_t in = state.range(0), out = state.range(1), rows = state.range(2);
  torch::manual_seed(0);
  auto x = torch::randn({4, rows / 4, in}).requires_grad_(true);
  auto w = (torch::randn({out, in}) * 0.02).requires_grad_(true);
  auto b = torch::zeros({out}).requires_grad_(true);
  const auto dy = torch::randn({4, rows / 4, out}).to(torch::kBFloat16);
  for (auto _ : state) {
    torch::Tensor y;
    {
      ptft::compat::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, true);
      y = linear(x, w, b);
    }
    y.backward(dy);
    x.mutable_grad() = torch::Tensor();
    w.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * rows * in * out, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_StepPtft(benchmark::State& s) { step(s, [](auto& x, auto& w, auto& b) { return ptft::nn::dense_linear(x, w, b); }); }
void BM_StepLibtorch(benchmark::State& s) {
  step(s, [](auto& x, auto& w, auto& b) { return torch::nn::functional::linear(x, w, b); });
}

torch::Tensor bf16_dy(const benchmark::State& state) {
  torch::manual_seed(0);
  return torch::randn({state.range(2), state.range(1)}).to(torch::kBFloat16);
}

void BM_TransposePtft(benchmark::State& state) {
  const auto dy = bf16_dy(state);
  auto t = torch::empty({dy.size(1), dy.size(0)}, dy.options());
  for (auto _ : state)
    ptft::nn::transpose16(static_cast<const uint16_t*>(dy.data_ptr()), dy.size(1), static_cast<uint16_t*>(t.data_ptr()),
                          dy.size(0), dy.size(0), dy.size(1));
  state.counters["GB/s"] = benchmark::Counter(4.0 * dy.numel(), benchmark::Counter::kIsIterationInvariantRate);
}
void BM_TransposeLibtorch(benchmark::State& state) {
  const auto dy = bf16_dy(state);
  for (auto _ : state) benchmark::DoNotOptimize(dy.t().contiguous());
  state.counters["GB/s"] = benchmark::Counter(4.0 * dy.numel(), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_BiasGradPtft(benchmark::State& state) {
  const auto dy = bf16_dy(state);
  auto sums = torch::empty({dy.size(1)});
  for (auto _ : state)
    ptft::nn::column_sums_bf16(static_cast<const uint16_t*>(dy.data_ptr()), dy.size(1), dy.size(0), dy.size(1),
                               sums.data_ptr<float>());
  state.counters["GB/s"] = benchmark::Counter(2.0 * dy.numel(), benchmark::Counter::kIsIterationInvariantRate);
}
void BM_BiasGradLibtorch(benchmark::State& state) {
  const auto dy = bf16_dy(state);
  for (auto _ : state) benchmark::DoNotOptimize(dy.sum(0, false, torch::kFloat));
  state.counters["GB/s"] = benchmark::Counter(2.0 * dy.numel(), benchmark::Counter::kIsIterationInvariantRate);
}

// GPT-2's and gpt-small's projections: c_attn, attention's c_proj, c_fc, the MLP's c_proj.
void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t c : {768, 384})
    for (auto [in, out] : {std::pair{c, 3 * c}, {c, c}, {c, 4 * c}, {4 * c, c}}) b->Args({in, out, c == 768 ? 1024 : 2048});
  b->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(BM_StepPtft)->Apply(shapes);
BENCHMARK(BM_StepLibtorch)->Apply(shapes);
BENCHMARK(BM_TransposePtft)->Apply(shapes);
BENCHMARK(BM_TransposeLibtorch)->Apply(shapes);
BENCHMARK(BM_BiasGradPtft)->Apply(shapes);
BENCHMARK(BM_BiasGradLibtorch)->Apply(shapes);
BENCHMARK_MAIN();
