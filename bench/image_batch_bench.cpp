// Image training batches: ImageSource::train_batch on Fashion-MNIST (Debian dataset-fashion-mnist)
// at 256 examples, without augmentation, with pad_crop + hflip (the CIFAR/FMNIST recipe) and
// with every augmentation, at the data's 28x28 grey and at 32x32 RGB (a ResNet input). The
// reference is the model step the batch feeds (a batch must cost a small fraction of it).
//
//   build/bench/ptft_bench_image_batch --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <filesystem>

#include "ptft/core/device.h"
#include "ptft/data/image_source.h"

namespace {

const std::string kTrain = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

// range(0): 0 = none, 1 = pad_crop 4 + hflip, 2 = everything; range(1): 0 = 1x28x28, 1 = 3x32x32.
void BM_fmnist_train_batch(benchmark::State& state) {
  if (!std::filesystem::exists(kTrain)) {
    state.SkipWithError("dataset-fashion-mnist is not installed");
    return;
  }
  ptft::set_threads(0);
  ptft::ImageDataConfig cfg;
  if (state.range(0) >= 1) cfg.augment.pad_crop = 4, cfg.augment.hflip = 0.5;
  if (state.range(0) >= 2) cfg.augment.resized_crop = {0.35, 1.0}, cfg.augment.jitter = 0.4, cfg.augment.erasing = 0.25;
  if (state.range(1) == 1) cfg.size = 32, cfg.channels = 3;
  ptft::DataContext ctx;
  ctx.images = std::make_shared<ptft::ImageDataConfig>(cfg);
  ptft::ImageSource src(kTrain, "train", ctx);
  int64_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(src.train_batch({step++, 0, 256, 1}));
  state.counters["images_per_s"] = benchmark::Counter(256.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_fmnist_train_batch)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->ArgNames({"augment", "rgb32"})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
