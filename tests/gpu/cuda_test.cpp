// GPU tests (CTest label `gpu`; every test skips itself without a CUDA device, so the suite
// passes on CPU-only machines and scripts/gpu-check.sh runs it where there is one): a GPT training
// step on CUDA computes the CPU's loss and gradients, bf16 autocast on CUDA runs the matmuls in
// bf16 and stays close to fp32, and the Trainer fits on CUDA under bf16 and checkpoints CPU
// tensors. (scripts/gpu-check.sh also trains and generates with the binary's --device cuda.)
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "../common/temp_dir.h"
#include "ptft/core/compat.h"
#include "ptft/core/device.h"
#include "ptft/data/data_source.h"
#include "ptft/io/checkpoint.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/gpt.h"
#include "ptft/train/task.h"
#include "ptft/train/trainer.h"

namespace ptft {
namespace {

#define PTFT_REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (this test runs on a GPU machine)"

GptConfig small_gpt() {
  GptConfig c;
  c.vocab_size = 97;
  c.n_positions = 32;
  c.n_embd = 64;
  c.n_layer = 2;
  c.n_head = 4;
  return c;
}

// A CPU model and its copy on cuda:0, with the same weights.
std::pair<std::shared_ptr<GptImpl>, std::shared_ptr<GptImpl>> cpu_and_cuda() {
  torch::manual_seed(3);
  auto cpu = std::make_shared<GptImpl>(small_gpt());
  auto gpu = std::make_shared<GptImpl>(small_gpt());
  load_into(*gpu, state_dict(*cpu), "memory", true);
  gpu->to(torch::Device("cuda:0"));
  return {cpu, gpu};
}

Batch token_batch(int64_t b, int64_t t, int64_t vocab) {
  auto window = torch::randint(vocab, {b, t + 1}, torch::kLong);
  Batch batch;
  batch.data["input_ids"] = window.narrow(1, 0, t).contiguous();
  batch.data["targets"] = window.narrow(1, 1, t).contiguous();
  batch.weight = b * t;
  return batch;
}

Batch to(const Batch& b, const torch::Device& d) {
  Batch out = b;
  for (auto& kv : out.data) kv.second = kv.second.to(d);
  return out;
}

TEST(Cuda, GptTrainingStepMatchesTheCpu) {
  PTFT_REQUIRE_CUDA();
  auto [cpu, gpu] = cpu_and_cuda();
  TaskPtr task = create_task("causal_lm", "test");
  const Batch b = token_batch(4, 32, 97);
  const auto l_cpu = task->loss_sum(*cpu, b);
  const auto l_gpu = task->loss_sum(*gpu, to(b, torch::Device("cuda:0")));
  l_cpu.backward();
  l_gpu.backward();
  // TF32 is off by default for matmuls in libtorch; fp32 sums differ in order only.
  EXPECT_NEAR(l_gpu.item<double>(), l_cpu.item<double>(), 1e-3 * std::abs(l_cpu.item<double>()));
  auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  for (const auto& kv : pc) {
    const auto gc = kv.value().grad(), gg = pg[kv.key()].grad().cpu();
    EXPECT_TRUE(torch::allclose(gg, gc, /*rtol=*/1e-3, /*atol=*/1e-5)) << kv.key();
  }
}

TEST(Cuda, Bf16AutocastRunsMatmulsInBf16AndStaysCloseToFp32) {
  PTFT_REQUIRE_CUDA();
  auto [cpu, gpu] = cpu_and_cuda();
  gpu->eval();
  torch::NoGradGuard ng;
  const auto ids = torch::randint(97, {2, 32}, torch::kLong).to(torch::Device("cuda:0"));
  const auto fp32 = gpu->forward({{"input_ids", ids}}).at("logits");
  torch::Tensor bf16;
  {
    const Precision p = resolve_precision("auto", torch::Device("cuda:0"));
    EXPECT_EQ(p.name, "bf16");
    compat::AutocastGuard amp(c10::DeviceType::CUDA, p.dtype, p.autocast);
    bf16 = gpu->forward({{"input_ids", ids}}).at("logits");
  }
  EXPECT_EQ(bf16.scalar_type(), torch::kBFloat16);  // the head's matmul ran in bf16
  EXPECT_FALSE(compat::autocast_enabled(c10::DeviceType::CUDA));  // the guard restored the state
  const double err = (bf16.to(torch::kFloat) - fp32).abs().max().item<double>();
  EXPECT_LT(err, 0.1 * fp32.abs().max().item<double>() + 0.05) << err;
}

// 30 bf16 steps of the Trainer on `device`; the checkpoint it writes holds CPU tensors.
void fit_and_check(const torch::Device& device) {
  test::TempDir tmp("device_trainer");
  torch::manual_seed(3);
  auto model = std::make_shared<GptImpl>(small_gpt());
  model->to(device);
  TaskPtr task = create_task("causal_lm", "test");
  TrainConfig cfg;
  cfg.steps = 30;
  cfg.batch_size = 8;
  cfg.lr = 3e-3;
  cfg.warmup = 2;
  cfg.eval_every = 0;
  cfg.save_every = 30;
  cfg.device = device.str();
  cfg.precision = device.is_cuda() ? "bf16" : "fp32";
  TrainerContext ctx;
  ctx.run_dir = tmp.path + "/run";
  ctx.device = device;
  ctx.precision = resolve_precision(cfg.precision, device);
  ctx.quiet = true;
  ctx.checkpoint_config = model->config_json();
  auto groups = default_param_groups(*model, 0.0, [](const std::string&) { return 1.0; });
  auto opt = make_optimizer(OptimConfig{}, groups);
  DataContext dctx;
  dctx.block_size = 32;
  dctx.vocab_size = 97;
  auto src = open_data_source("synthetic:tokens?vocab=97", "train", dctx, "data.train");
  Trainer trainer(cfg, ctx);
  const FitResult r = trainer.fit(*model, *task, *src, nullptr, *opt);
  EXPECT_EQ(r.step, 30);
  EXPECT_EQ(r.units_seen, 30 * 8 * 32);
  const Checkpoint saved = read_ptft_checkpoint(tmp.path + "/run/checkpoints/last", true);
  EXPECT_TRUE(saved.model.at("transformer.wte.weight").device().is_cpu());
  // (Uniform random tokens teach nothing; the weights must stay finite through bf16 steps.)
  EXPECT_TRUE(torch::isfinite(saved.model.at("transformer.wte.weight")).all().item<bool>());
}

TEST(Cuda, TrainerFitsOnCudaInBf16AndCheckpointsCpuTensors) {
  PTFT_REQUIRE_CUDA();
  fit_and_check(torch::Device("cuda:0"));
}

// The same on the CPU: what the CUDA test runs, checked on every machine.
TEST(Cuda, TheTrainerCheckRunsOnTheCpuToo) { fit_and_check(torch::Device("cpu")); }

}  // namespace
}  // namespace ptft
