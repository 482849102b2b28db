// precision: auto, measured for convolutional models (ptft/train/precision_probe.h): who is
// probed, what the probe decides, and that it leaves the model and the process as they were.
#include "ptft/train/precision_probe.h"

#include <gtest/gtest.h>

#include "ptft/models/detector.h"
#include "ptft/models/mlp.h"
#include "ptft/models/resnet.h"

namespace ptft {
namespace {

// ResNet-18 with a dropout (the probe's forwards draw random numbers) and 10 classes.
ResNetConfig resnet18() {
  ResNetConfig c;
  c.num_classes = 10;
  c.dropout = 0.5;
  return c;
}

Batch images(int64_t n, int64_t side) {
  Batch b;
  b.data["x"] = torch::rand({n, 3, side, side});
  b.data["y"] = torch::randint(0, 10, {n}, torch::kLong);
  b.weight = n;
  return b;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

TEST(PrecisionProbe, OnlyAutoOnABf16CpuForConvolutionalModels) {
  ResNetImpl resnet(resnet18());
  const bool bf16_cpu = resolve_precision("auto", torch::kCPU).autocast;
  EXPECT_EQ(may_probe(resnet, torch::kCPU, "auto"), bf16_cpu);
  EXPECT_FALSE(may_probe(resnet, torch::kCPU, "bf16"));
  EXPECT_FALSE(may_probe(resnet, torch::kCPU, "fp32"));
  EXPECT_FALSE(may_probe(resnet, torch::Device("cuda:0"), "auto"));
  MlpConfig mc;
  MlpImpl mlp(mc);
  EXPECT_FALSE(mlp.convolutional());
  EXPECT_FALSE(may_probe(mlp, torch::kCPU, "auto"));
}

TEST(PrecisionProbe, ChoosesByTheRuleAndLeavesTheModelAsItWas) {
  // 32 images of 32 px through ResNet-18: ~7 GFLOP per step, above kProbeMinStepFlops.
  torch::manual_seed(3);
  ResNetImpl m(resnet18());
  m.train();
  m.forward(images(4, 32).data);  // running statistics that are not the initial ones
  m.eval();
  const auto buffers = copies(m.buffers());
  const auto params = copies(m.parameters());
  TaskPtr task = create_task("classification", "test");
  const Batch batch = images(32, 32);

  torch::manual_seed(11);
  const std::optional<PrecisionProbe> p = probe_precision(m, *task, batch, torch::kCPU);
  const torch::Tensor after = torch::rand({4});
  torch::manual_seed(11);
  EXPECT_TRUE(torch::equal(after, torch::rand({4}))) << "the probe's dropout draws were not undone";

  ASSERT_TRUE(p.has_value());
  EXPECT_GT(p->fp32_ms, 0);
  EXPECT_GT(p->bf16_ms, 0);
  EXPECT_EQ(p->chosen.name, p->fp32_ms < 0.9 * p->bf16_ms ? "fp32" : "bf16");
  EXPECT_EQ(p->chosen.autocast, p->chosen.name == "bf16");
  EXPECT_FALSE(m.is_training());
  const auto bufs_after = m.buffers(), params_after = m.parameters();
  for (size_t i = 0; i < buffers.size(); ++i) EXPECT_TRUE(torch::equal(bufs_after[i], buffers[i])) << i;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params_after[i], params[i])) << i;
    EXPECT_FALSE(params_after[i].grad().defined()) << i;
  }
}

TEST(PrecisionProbe, SmallStepsStayUnmeasured) {
  // 2 images of 32 px: ~0.4 GFLOP per step; one warm-up pass, then nothing to decide.
  torch::manual_seed(4);
  ResNetImpl m(resnet18());
  const auto buffers = copies(m.buffers());
  TaskPtr task = create_task("classification", "test");
  EXPECT_FALSE(probe_precision(m, *task, images(2, 32), torch::kCPU).has_value());
  const auto after = m.buffers();
  for (size_t i = 0; i < buffers.size(); ++i) EXPECT_TRUE(torch::equal(after[i], buffers[i])) << i;
  EXPECT_TRUE(m.is_training());
}

TEST(PrecisionProbe, TheTasksLossComponentsAreNotTheFirstSteps) {
  // A detection task sums box and class losses over every loss_sum until the trainer takes them:
  // the probe's passes must not reach the first step's line. (A small detector: the probe stops
  // after its warm-up pass, which adds to the task as much as a timed pass would.)
  DetectorConfig c;
  c.backbone.layers = {1, 1, 1, 1};
  c.backbone.width = 8;
  c.fpn_channels = 16;
  c.head_convs = 1;
  c.image_size = 64;
  DetectorImpl m(c);
  Batch b;
  b.data["x"] = torch::rand({2, 3, 64, 64});
  b.data["boxes"] = torch::tensor({10.f, 8.f, 30.f, 32.f, 28.f, 30.f, 58.f, 50.f}).view({2, 1, 4});
  b.data["labels"] = torch::tensor({0L, 1L}).view({2, 1});
  b.weight = 2;
  TaskPtr task = create_task("detection", "test");
  (void)task->loss_sum(m, b);
  ASSERT_FALSE(task->take_loss_components().empty());  // what a pass leaves when nobody takes it
  EXPECT_FALSE(probe_precision(m, *task, b, torch::kCPU).has_value());
  EXPECT_TRUE(task->take_loss_components().empty());
}

}  // namespace
}  // namespace ptft
