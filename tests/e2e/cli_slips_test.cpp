// e2e: the command-line slips of newcomers get a message that names the fix (apps/ptft/slips.cpp):
// a misspelt command, "train", a training setting given as an option (ptft's and other
// trainers' names), --epochs, launch without "--"; exit 1 each, and a correct line is unaffected.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {

using e2e::contains;

struct Slip {
  std::vector<std::string> args;
  std::vector<std::string> says;
};

TEST(CliSlipsE2E, EachSlipNamesTheFix) {
  const std::vector<Slip> slips = {
      {{"pretrian", "--config", "x.yaml"}, {"no command 'pretrian'", "did you mean 'pretrain'?"}},
      {{"genrate", "--model", "m"}, {"did you mean 'generate'?"}},
      {{"train", "--config", "x.yaml"}, {"ptft pretrain trains from scratch", "ptft finetune"}},
      {{"pretrain", "--config", "x.yaml", "--steps", "10"}, {"--steps is not an option", "--set train.steps=10"}},
      {{"finetune", "--config", "x.yaml", "--from", "r", "--lr=3e-4"}, {"--set train.lr=3e-4"}},
      {{"finetune", "--config", "x.yaml", "--from", "r", "--learning_rate", "1e-4"}, {"--set train.lr=1e-4"}},
      {{"pretrain", "--config", "x.yaml", "--batch_size", "8"}, {"--set train.batch_size=8"}},
      {{"finetune", "--config", "x.yaml", "--from", "r", "--lora_alpha", "32"}, {"--set finetune.lora.alpha=32"}},
      {{"pretrain", "--config", "x.yaml", "--epochs", "3"}, {"--set train.epochs=3"}},
      {{"finetune", "--config", "x.yaml", "--num_train_epochs=2"}, {"--set train.epochs=2"}},
      {{"finetune", "--config", "x.yaml", "--target_modules", "q_proj"}, {"--set finetune.lora.targets=q_proj"}},
      {{"launch", "--nproc", "2", "pretrain", "--config", "x.yaml"}, {"after a '--'", "ptft launch --nproc 2 -- pretrain"}},
  };
  for (const auto& s : slips) {
    auto r = e2e::run_ptft(s.args);
    EXPECT_EQ(r.exit_code, 1) << r.text();
    for (const auto& text : s.says) EXPECT_TRUE(contains(r.err, text)) << e2e::join_args(s.args) << "\n" << r.err;
  }
  // What is not a slip keeps CLI11's own message.
  auto other = e2e::run_ptft({"pretrain", "--config", "x.yaml", "--no-such-flag"});
  EXPECT_EQ(other.exit_code, 1) << other.text();
  EXPECT_TRUE(contains(other.err, "--no-such-flag")) << other.err;
  auto help = e2e::run_ptft({"pretrain", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.text();
  // The keys a finetune config takes, without a checkpoint to fine-tune.
  auto keys = e2e::run_ptft({"finetune", "--help-config"});
  EXPECT_EQ(keys.exit_code, 0) << keys.text();
  EXPECT_TRUE(contains(keys.out, "finetune.strategy")) << keys.out.substr(0, 500);
  // ... and the model.* keys of every family.
  EXPECT_TRUE(contains(keys.out, "  gpt: vocab_size, n_positions, n_embd")) << keys.out;
  EXPECT_TRUE(contains(keys.out, "  llama: ")) << keys.out;
  EXPECT_TRUE(contains(keys.out, "num_key_value_heads")) << keys.out;
  EXPECT_TRUE(contains(keys.out, "  resnet: ")) << keys.out;
  auto no_from = e2e::run_ptft({"finetune", "--config", "x.yaml"});
  EXPECT_EQ(no_from.exit_code, 1) << no_from.text();
  EXPECT_TRUE(contains(no_from.err, "--from is required")) << no_from.err;
}

}  // namespace
