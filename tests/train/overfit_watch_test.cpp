// Tests for the overfitting alarm (ptft/train/overfit_watch.h) on hand-made evaluation
// sequences, and for its advice (ptft/train/overfit_advice.h) per strategy and kind of data.
#include "ptft/train/overfit_watch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "ptft/train/overfit_advice.h"

namespace ptft {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Eval {
  int64_t step;
  double val, train;
};

// Feeds `evals` in order; returns the steps at which the watch fired.
std::vector<int64_t> fired_at(OverfitWatch& w, const std::vector<Eval>& evals) {
  std::vector<int64_t> steps;
  for (const auto& e : evals)
    if (auto a = w.add(e.step, e.val, e.train)) steps.push_back(a->step);
  return steps;
}

TEST(OverfitWatch, FiresAtTheNthEvaluationAboveTheBestWhileTrainFalls) {
  OverfitWatch w(3, 0.01);
  EXPECT_FALSE(w.add(100, 1.0, 1.0));
  EXPECT_FALSE(w.add(200, 0.8, 0.8));
  EXPECT_FALSE(w.add(300, 0.7, 0.6));  // best
  EXPECT_FALSE(w.add(400, 0.75, 0.5));
  EXPECT_FALSE(w.add(500, 0.8, 0.4));
  auto a = w.add(600, 0.9, 0.3);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->step, 600);
  EXPECT_EQ(a->steps, (std::vector<int64_t>{300, 400, 500, 600}));
  EXPECT_EQ(a->val_losses, (std::vector<double>{0.7, 0.75, 0.8, 0.9}));
  EXPECT_EQ(a->train_losses, (std::vector<double>{0.6, 0.5, 0.4, 0.3}));
  EXPECT_EQ(a->best_step, 300);
  EXPECT_DOUBLE_EQ(a->best_val_loss, 0.7);
}

TEST(OverfitWatch, AWigglyRiseCountsAsLongAsItStaysAboveTheBest) {
  OverfitWatch w(3, 0.01);
  EXPECT_EQ(fired_at(w, {{100, 0.5, 0.5}, {200, 0.6, 0.4}, {300, 0.55, 0.3}, {400, 0.7, 0.2}}),
            std::vector<int64_t>{400});
}

TEST(OverfitWatch, NotWhenTheTrainingLossRisesToo) {
  // Both losses rising is divergence (learning rate too high), not overfitting.
  OverfitWatch w(3, 0.01);
  EXPECT_TRUE(fired_at(w, {{100, 0.7, 0.6}, {200, 0.75, 0.7}, {300, 0.8, 0.8}, {400, 0.9, 0.9}, {500, 1.0, 1.0}})
                  .empty());
}

TEST(OverfitWatch, NotWhenTheTrainingLossIsFlat) {
  OverfitWatch w(2, 0.01);
  EXPECT_TRUE(fired_at(w, {{100, 0.7, 0.5}, {200, 0.8, 0.499}, {300, 0.9, 0.498}, {400, 0.95, 0.5}}).empty());
}

TEST(OverfitWatch, NotOnNoiseWithinTheMargin) {
  OverfitWatch w(3, 0.01);  // 0.7 x 1.01 = 0.707
  EXPECT_TRUE(
      fired_at(w, {{100, 0.7, 0.6}, {200, 0.703, 0.5}, {300, 0.705, 0.4}, {400, 0.702, 0.3}, {500, 0.706, 0.2}})
          .empty());
}

TEST(OverfitWatch, AnEvaluationWithinTheMarginBreaksTheChain) {
  OverfitWatch w(3, 0.01);
  EXPECT_EQ(fired_at(w, {{100, 0.7, 0.6},
                         {200, 0.8, 0.5},
                         {300, 0.8, 0.45},
                         {400, 0.704, 0.4},  // back near the best: not risen
                         {500, 0.8, 0.35},
                         {600, 0.8, 0.3},
                         {700, 0.8, 0.25}}),
            std::vector<int64_t>{700});
}

TEST(OverfitWatch, FiresOncePerEpisodeAndAgainAfterANewBest) {
  OverfitWatch w(2, 0.01);
  EXPECT_EQ(fired_at(w, {{1, 0.7, 0.6},
                         {2, 0.8, 0.5},
                         {3, 0.9, 0.4},  // fires
                         {4, 1.0, 0.3},
                         {5, 1.1, 0.2},  // same episode: silent
                         {6, 0.6, 0.15},  // a new best re-arms
                         {7, 0.7, 0.1},
                         {8, 0.8, 0.05}}),
            (std::vector<int64_t>{3, 8}));
}

TEST(OverfitWatch, OffWhenPatienceIsZero) {
  OverfitWatch w(0, 0.01);
  EXPECT_FALSE(w.enabled());
  EXPECT_TRUE(fired_at(w, {{1, 0.1, 1.0}, {2, 0.5, 0.5}, {3, 0.9, 0.1}, {4, 2.0, 0.01}}).empty());
}

TEST(OverfitWatch, TheEvaluationBeforeTrainingCanBeTheBest) {
  // A fine-tune whose validation loss only rises: step 0 has no training loss, the first one
  // measured (0.4) stands in for it.
  OverfitWatch w(3, 0.01);
  EXPECT_FALSE(w.add(0, 0.5, kNaN));
  EXPECT_FALSE(w.add(100, 0.6, 0.4));
  EXPECT_FALSE(w.add(200, 0.7, 0.3));
  auto a = w.add(300, 0.8, 0.2);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->best_step, 0);
  ASSERT_EQ(a->train_losses.size(), 4u);
  EXPECT_TRUE(std::isnan(a->train_losses[0]));
}

TEST(OverfitWatch, IgnoresNonFiniteValidationLosses) {
  OverfitWatch w(2, 0.01);
  EXPECT_EQ(fired_at(w, {{1, 0.7, 0.6}, {2, kNaN, 0.5}, {3, 0.8, 0.4}, {4, INFINITY, 0.35}, {5, 0.9, 0.3}}),
            std::vector<int64_t>{5});
}

// --- advice ---

OverfitAlarm alarm_at(int64_t step, int64_t best_step) {
  OverfitAlarm a;
  a.step = step;
  a.steps = {best_step, step};
  a.val_losses = {0.5, 0.9};
  a.train_losses = {0.4, 0.1};
  a.best_step = best_step;
  a.best_val_loss = 0.5;
  return a;
}

TrainConfig train_config() {
  TrainConfig t;
  t.lr = 3e-4;
  t.weight_decay = 0.1;
  return t;
}

OverfitContext finetune_context(const std::string& strategy) {
  OverfitContext c;
  TransferConfig f;
  f.strategy = strategy;
  f.freeze_layers = strategy == "freeze" ? 2 : 0;
  c.finetune = f;
  c.parameters = 1200000;
  c.trainable_parameters = strategy == "full" ? 1200000 : 20000;
  c.train_examples = 800;
  return c;
}

const OverfitState kState{64, 200, "runs/x/checkpoints"};

// The advice for an alarm at step 1000 (best at `best_step`), one line per remedy.
std::string advice_text(const OverfitContext& run, const TrainConfig& train = train_config(), int64_t best_step = 200) {
  std::string s;
  for (const auto& l : overfit_advice(alarm_at(1000, best_step), run, train, kState)) s += l + "\n";
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(OverfitAdvice, FullFineTuneSuggestsFreezingOrLora) {
  const std::string s = advice_text(finetune_context("full"));
  EXPECT_TRUE(has(s, "strategy full trains 1200000 of 1200000 parameters on 800 examples (80 passes so far)")) << s;
  EXPECT_TRUE(has(s, "finetune.strategy=freeze")) << s;
  EXPECT_TRUE(has(s, "finetune.strategy=lora")) << s;
  EXPECT_TRUE(has(s, "lower train.lr (now 3.0e-4), e.g. 1.0e-4")) << s;
  EXPECT_TRUE(has(s, "finetune.backbone_lr=0.1")) << s;
  EXPECT_TRUE(has(s, "runs/x/checkpoints/best holds step 200")) << s;
  EXPECT_TRUE(has(s, "set train.patience")) << s;
}

TEST(OverfitAdvice, AFineTuneWorseThanItsStartSaysSo) {
  const std::string s = advice_text(finetune_context("full"));
  EXPECT_FALSE(has(s, "before fine-tuning")) << s;
  const std::string at_zero = advice_text(finetune_context("full"), train_config(), 0);
  EXPECT_TRUE(has(at_zero, "was at step 0, before fine-tuning")) << at_zero;
}

TEST(OverfitAdvice, FreezeSuggestsMoreFrozenBlocks) {
  const std::string s = advice_text(finetune_context("freeze"));
  EXPECT_TRUE(has(s, "finetune.freeze_layers=3 or more; now 2")) << s;
  EXPECT_TRUE(has(s, "finetune.strategy=head")) << s;
}

TEST(OverfitAdvice, LoraSuggestsASmallerRankNotLora) {
  OverfitContext c = finetune_context("lora");
  const std::string s = advice_text(c);
  EXPECT_TRUE(has(s, "LoRA trains 20000 of 1200000 parameters")) << s;
  EXPECT_TRUE(has(s, "finetune.lora.r=4; now 8")) << s;
  EXPECT_TRUE(has(s, "finetune.lora.dropout=0.1")) << s;
  EXPECT_FALSE(has(s, "finetune.strategy=lora")) << s;
  EXPECT_FALSE(has(s, "backbone_lr")) << s;
}

TEST(OverfitAdvice, HeadHasNothingLeftToFreeze) {
  const std::string s = advice_text(finetune_context("head"));
  EXPECT_TRUE(has(s, "nothing left to freeze")) << s;
  EXPECT_FALSE(has(s, "freeze_layers")) << s;
  EXPECT_FALSE(has(s, "finetune.strategy=")) << s;
}

TEST(OverfitAdvice, ImagesGetTheAugmentationKeysThatAreOff) {
  OverfitContext c = finetune_context("full");
  AugmentConfig aug;
  aug.hflip = 0.5;  // on already
  c.image_augment = aug;
  const std::string s = advice_text(c);
  EXPECT_FALSE(has(s, "augment.hflip")) << s;
  EXPECT_TRUE(has(s, "data.images.augment.pad_crop=4 (now 0)")) << s;
  EXPECT_TRUE(has(s, "data.images.augment.resized_crop=[0.35, 1.0]")) << s;
  EXPECT_TRUE(has(s, "more training data (now 800 examples)")) << s;
}

TEST(OverfitAdvice, TextGetsMoreDataNoAugmentation) {
  const std::string s = advice_text(finetune_context("lora"));
  EXPECT_FALSE(has(s, "augment")) << s;
  EXPECT_TRUE(has(s, "more training data (now 800 examples)")) << s;
}

TEST(OverfitAdvice, DetectionGetsItsAugmentationKeys) {
  OverfitContext c = finetune_context("full");
  DetectionDataConfig d;
  d.mosaic = 0.0;
  c.detection = d;
  const std::string s = advice_text(c);
  EXPECT_TRUE(has(s, "data.detection.mosaic=1.0 (now 0.0)")) << s;
  EXPECT_FALSE(has(s, "data.detection.scale=")) << s;  // at the default already
}

TEST(OverfitAdvice, PreTrainingSuggestsASmallerModelAndRegularisation) {
  OverfitContext c;
  c.parameters = c.trainable_parameters = 50000;
  c.train_examples = 64;
  c.dropout = {{"model.dropout", 0.0}, {"model.classifier_dropout", -1.0}};
  TrainConfig t = train_config();
  t.weight_decay = 0.0;
  t.patience = 5;
  const std::string s = advice_text(c, t);
  EXPECT_TRUE(has(s, "pre-training trains 50000 of 50000 parameters on 64 examples (1000 passes so far)")) << s;
  EXPECT_TRUE(has(s, "a smaller model")) << s;
  EXPECT_TRUE(has(s, "train.weight_decay=0.1 (now 0.0)")) << s;
  EXPECT_TRUE(has(s, "model.dropout=0.1 (now 0.0)")) << s;
  EXPECT_FALSE(has(s, "classifier_dropout")) << s;
  EXPECT_TRUE(has(s, "early stopping (train.patience 5)")) << s;
  EXPECT_FALSE(has(s, "finetune.")) << s;
}

}  // namespace
}  // namespace ptft
