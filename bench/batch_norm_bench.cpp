// Batch norm + residual add + ReLU, forward and backward, on channels-last activations:
// ptft's fused op (nn::batch_norm_act) vs the same function in libtorch's ops (batch_norm, add,
// relu: what PyTorch eager runs for a ResNet block's end), same input, same gradient.
//
//   build/bench/ptft_bench_batch_norm --benchmark_counters_tabular=true
// Arguments: channels, side (batch 128), dtype (0 fp32, 1 bf16). Each row reports the step's
// GB/s of activations touched once (x, residual, y, dy, dx, the residual's gradient: the least any
// implementation must move) and elements/s; compare the two rows of one shape (ratio = speed-up).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "ptft/core/device.h"
#include "ptft/nn/batch_norm.h"

namespace {

struct Inputs {
  torch::Tensor x, res, w, b, rm, rv, dy;
};

Inputs make(const benchmark::State& state) {
  const int64_t C = state.range(0), S = state.range(1);
  const auto type = state.range(2) != 0 ? torch::kBFloat16 : torch::kFloat;
  torch::manual_seed(0);
  auto cl = [&](const torch::Tensor& t) { return t.to(type).contiguous(at::MemoryFormat::ChannelsLast); };
  Inputs in;
  in.x = cl(torch::randn({128, C, S, S})).requires_grad_(true);
  in.res = cl(torch::randn({128, C, S, S})).requires_grad_(true);
  in.w = (torch::rand({C}) + 0.5).requires_grad_(true);
  in.b = torch::randn({C}).requires_grad_(true);
  in.rm = torch::zeros({C});
  in.rv = torch::ones({C});
  in.dy = cl(torch::randn({128, C, S, S}));
  return in;
}

void report(benchmark::State& state, const Inputs& in) {
  const auto n = static_cast<double>(in.x.numel());
  state.counters["elements_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB_per_s"] = benchmark::Counter(6 * n * static_cast<double>(in.x.element_size()) / 1e9,
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

template <class Forward>
void run(benchmark::State& state, Forward&& forward) {
  ptft::set_threads(0);
  Inputs in = make(state);
  for (auto _ : state) {
    auto y = forward(in);
    y.backward(in.dy);
    for (auto* t : {&in.x, &in.res, &in.w, &in.b}) t->mutable_grad().reset();
  }
  report(state, in);
}

void BM_ptft_batch_norm_add_relu(benchmark::State& state) {
  run(state, [](const Inputs& in) {
    return ptft::nn::batch_norm_act(in.x, in.res, in.w, in.b, in.rm, in.rv, true, 0.1, 1e-5, true);
  });
}

void BM_torch_batch_norm_add_relu(benchmark::State& state) {
  run(state, [](const Inputs& in) {
    return torch::relu(torch::batch_norm(in.x, in.w, in.b, in.rm, in.rv, true, 0.1, 1e-5, true) + in.res);
  });
}

// resnet-fmnist's layer1 (16 x 28 x 28), layer2 (32 x 14 x 14) and layer3 (64 x 7 x 7).
void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t type : {1, 0})
    for (auto [c, s] : {std::pair<int64_t, int64_t>{16, 28}, {32, 14}, {64, 7}}) b->Args({c, s, type});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_ptft_batch_norm_add_relu)->Apply(shapes);
BENCHMARK(BM_torch_batch_norm_add_relu)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
