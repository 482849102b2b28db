// e2e: config files written with other tools' habits (core/foreign_keys.h): Hugging Face Trainer,
// PEFT and Ultralytics names get the ptft key they mean; a nested typo names its sibling; a bad
// value from --set is blamed on the --set, not on a line of the file; train.epochs sets the
// run's length from the data.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {

using e2e::contains;

TEST(ConfigHabitsE2E, OtherToolsKeyNamesGetThePtftKey) {
  e2e::TempDir tmp;
  struct Case {
    std::string yaml, says;
  };
  const std::vector<Case> cases = {
      {"train:\n  learning_rate: 1.0e-3\n", "'learning_rate' is Hugging Face Trainer's name: ptft's key is 'train.lr'"},
      {"train:\n  num_train_epochs: 3\n", "ptft's key is 'train.epochs'"},
      {"train:\n  per_device_train_batch_size: 8\n", "ptft's key is 'train.batch_size'"},
      {"finetune:\n  lora:\n    lora_alpha: 16\n", "'lora_alpha' is PEFT's name: ptft's key is 'finetune.lora.alpha'"},
      {"finetune:\n  lora:\n    target_modules: [q_proj]\n", "ptft's key is 'finetune.lora.targets'"},
      {"data:\n  imgsz: 640\n", "'imgsz' is Ultralytics's name: ptft's key is 'data.images.size'"},
      {"train:\n  batch: 16\n", "ptft's key is 'train.batch_size'"},
  };
  for (const auto& c : cases) {
    e2e::write_text(tmp.path("c.yaml"), "model: {family: mlp, in_features: 2, num_classes: 3}\n" + c.yaml);
    auto r = e2e::run_ptft({"pretrain", "--config", tmp.path("c.yaml"), "--out", tmp.path("run")});
    EXPECT_EQ(r.exit_code, 1) << r.text();
    EXPECT_TRUE(contains(r.err, c.says)) << c.yaml << r.err;
    EXPECT_TRUE(contains(r.err, "c.yaml:")) << r.err;  // the line of the key
  }
}

TEST(ConfigHabitsE2E, ABadSetValueIsBlamedOnTheSet) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("run"), {"train.lr=-1"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "error: --set train.lr=-1: train.lr must be > 0")) << r.err;
  EXPECT_FALSE(contains(r.err, "mlp-spirals.yaml")) << r.err;
  // A bad value in the file names the key's own line (train.lr is line 15 of configs/mlp-spirals.yaml).
  e2e::write_text(tmp.path("c.yaml"), "model: {family: mlp, in_features: 2, num_classes: 3}\n"
                                      "data: {train: \"synthetic:spirals\"}\ntrain:\n  steps: 5\n  lr: -1\n");
  r = e2e::run_ptft({"pretrain", "--config", tmp.path("c.yaml"), "--out", tmp.path("run")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "c.yaml:5: train.lr must be > 0")) << r.err;
}

TEST(ConfigHabitsE2E, EpochsSetTheStepsFromTheData) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  // 4096 training points, 64 per step (configs/mlp-spirals.yaml): half an epoch is 32 steps.
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", run, {"train.epochs=0.5"}, /*quiet=*/false));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.err, "train.epochs 0.5: 32 steps (4096 examples, 64 per step)")) << r.err;
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["steps"], 32);
  const std::string resolved = e2e::read_text(run + "/config.yaml");
  EXPECT_TRUE(contains(resolved, "steps: 32")) << resolved;
  EXPECT_TRUE(contains(resolved, "epochs: 0.5")) << resolved;
  // Its config.yaml (steps and epochs agreeing) resumes: the run is finished.
  r = e2e::run_ptft({"pretrain", "--out", run, "--resume"});
  EXPECT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.err, "already finished at step 32")) << r.err;
  // Both given and disagreeing: which to drop.
  r = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("both"), {"train.epochs=2", "train.steps=10"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "train.steps 10 and train.epochs 2.0 (= 128 steps) both set the length")) << r.err;
  EXPECT_TRUE(contains(r.err, "set one of them")) << r.err;
}

}  // namespace
