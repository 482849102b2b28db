// Tests for Trainer::accumulate_gradients (ptft/train/trainer.h): accumulating micro-batches
// gives the gradient of the one large batch they form, also when the micro-batches have
// different sizes (the last batch of a split, masked tokens). Each micro-batch's summed loss is
// divided by the units of the whole effective batch, not by its own size.
//
// Reference: the gradient of ClassificationTask's mean cross-entropy over all 16 examples in
// one backward pass. Tolerance: max |difference| <= 1e-6 per parameter (fp32, gradients are
// O(0.1)); the naive average of per-micro-batch means must differ by more than 1e-3.
#include "ptft/train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/models/mlp.h"
#include "ptft/train/classification_task.h"

namespace ptft {
namespace {

constexpr int64_t kExamples = 16;
constexpr double kTol = 1e-6;

struct Fixture {
  std::shared_ptr<MlpImpl> model;
  torch::Tensor x, y;  // (16, 2), (16)
  ClassificationTask task;
  Trainer trainer;
  Fixture() : trainer(small_config(), TrainerContext{}) {
    torch::manual_seed(5);
    MlpConfig c;
    c.hidden = {16, 16};
    model = std::make_shared<MlpImpl>(c);
    auto gen = at::detail::createCPUGenerator(11);
    x = torch::randn({kExamples, 2}, gen);
    // Skewed labels: the small micro-batches hold mostly one class, so per-batch means and the
    // global mean really weigh examples differently.
    y = torch::tensor({0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0}, torch::kLong);
  }
  static TrainConfig small_config() {
    TrainConfig t;
    t.steps = 1;
    return t;
  }
  Batch slice(int64_t begin, int64_t end) const {
    return Batch{{{"x", x.slice(0, begin, end)}, {"y", y.slice(0, begin, end)}}, end - begin};
  }
  std::vector<Batch> split(const std::vector<int64_t>& sizes) const {
    std::vector<Batch> out;
    int64_t at = 0;
    for (auto n : sizes) {
      out.push_back(slice(at, at + n));
      at += n;
    }
    EXPECT_EQ(at, kExamples);
    return out;
  }
  // Gradients by parameter name after `fn` ran backward on a zero-gradient model.
  template <class Fn>
  std::map<std::string, torch::Tensor> grads_after(Fn fn) {
    model->zero_grad();
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
    fn();
    std::map<std::string, torch::Tensor> g;
    for (const auto& np : model->named_parameters(true)) {
      EXPECT_TRUE(np.value().grad().defined()) << np.key();
      g[np.key()] = np.value().grad().clone();
    }
    return g;
  }
  // Reference: one batch, mean loss over all examples.
  std::map<std::string, torch::Tensor> full_batch_grads(double* loss = nullptr) {
    return grads_after([&] {
      auto logits = model->forward({{"x", x}}).at("logits");
      auto l = torch::nn::functional::cross_entropy(logits, y);
      if (loss) *loss = l.item<double>();
      l.backward();
    });
  }
};

double max_diff(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  double m = 0;
  for (const auto& [k, v] : a) m = std::max(m, (v - b.at(k)).abs().max().item<double>());
  return m;
}

TEST(GradAccum, UnequalMicroBatchesEqualOneBatch) {
  Fixture f;
  double ref_loss = 0;
  auto ref = f.full_batch_grads(&ref_loss);
  double loss = 0;
  auto micro = f.split({3, 5, 7, 1});
  auto acc = f.grads_after([&] { loss = f.trainer.accumulate_gradients(*f.model, f.task, micro); });
  EXPECT_LE(max_diff(acc, ref), kTol);
  EXPECT_NEAR(loss, ref_loss, 1e-6);  // mean loss per example of the effective batch

  // The naive accumulation (mean of each micro-batch, averaged) weighs the 1-example batch like
  // the 7-example one: its gradient is measurably different, so the check above can fail.
  auto naive = f.grads_after([&] {
    for (const auto& b : micro)
      (f.task.loss_sum(*f.model, b) / static_cast<double>(b.weight) / static_cast<double>(micro.size())).backward();
  });
  EXPECT_GT(max_diff(naive, ref), 1e-3);
}

TEST(GradAccum, EqualMicroBatchesEqualOneBatch) {
  Fixture f;
  double ref_loss = 0;
  auto ref = f.full_batch_grads(&ref_loss);
  double loss = 0;
  auto acc = f.grads_after([&] { loss = f.trainer.accumulate_gradients(*f.model, f.task, f.split({4, 4, 4, 4})); });
  EXPECT_LE(max_diff(acc, ref), kTol);
  EXPECT_NEAR(loss, ref_loss, 1e-6);
}

TEST(GradAccum, SingleMicroBatchIsTheMeanLoss) {
  Fixture f;
  double ref_loss = 0;
  auto ref = f.full_batch_grads(&ref_loss);
  double loss = 0;
  auto acc = f.grads_after([&] { loss = f.trainer.accumulate_gradients(*f.model, f.task, f.split({16})); });
  EXPECT_LE(max_diff(acc, ref), kTol);
  EXPECT_NEAR(loss, ref_loss, 1e-6);
}

TEST(GradAccum, WeightIsTheNormaliser) {
  // Batch::weight, not the tensor size, is what a micro-batch counts for (language tasks count
  // target tokens): doubling every weight halves the gradient.
  Fixture f;
  auto micro = f.split({3, 5, 7, 1});
  auto once = f.grads_after([&] { f.trainer.accumulate_gradients(*f.model, f.task, micro); });
  for (auto& b : micro) b.weight *= 2;
  auto halved = f.grads_after([&] { f.trainer.accumulate_gradients(*f.model, f.task, micro); });
  for (auto& [k, v] : halved) v.mul_(2.0);
  EXPECT_LE(max_diff(once, halved), kTol);
}

TEST(GradAccum, NoUnitsIsAnInternalError) {
  Fixture f;
  Batch empty{{{"x", torch::zeros({0, 2})}, {"y", torch::zeros({0}, torch::kLong)}}, 0};
  EXPECT_THROW(f.trainer.accumulate_gradients(*f.model, f.task, {empty}), InternalError);
}

}  // namespace
}  // namespace ptft
