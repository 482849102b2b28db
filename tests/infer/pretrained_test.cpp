// The pretrained loader (ptft/infer/pretrained.h): which directory a path stands for, the
// weights, the tokenizer and its size check, the chat template, and the errors.
#include "ptft/infer/pretrained.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/infer/generate.h"
#include "ptft/io/checkpoint.h"
#include "ptft/transfer/lora.h"
#include "tiny_lm.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

// A weights-only checkpoint of `gpt` in `dir`, with `tok` in its tokenizer/ when given.
void write_gpt_checkpoint(const std::string& dir, GptImpl& gpt, const TokenizerPtr& tok,
                          const nlohmann::json& chat_template = nullptr, const nlohmann::json& lora = nullptr) {
  Checkpoint c;
  c.config = gpt.config_json();
  c.config["ptft"]["task"] = "causal_lm";
  if (!chat_template.is_null()) c.config["ptft"]["chat_template"] = chat_template;
  if (!lora.is_null()) c.config["ptft"]["lora"] = lora;
  c.model = state_dict(gpt);
  write_checkpoint(dir, c);
  if (tok) tok->save(dir + "/tokenizer");
}

template <class F>
UserError user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a UserError";
  return UserError("");
}

TEST(Pretrained, LoadsWeightsTokenizerAndChatTemplate) {
  test::TempDir tmp("pretrained");
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), 16);
  const nlohmann::json tmpl = {{"name", "mine"},
                               {"system", "S: {content}\n"},
                               {"user", "U: {content}\n"},
                               {"assistant", "A: {content}"},
                               {"assistant_end", "<|endoftext|>"}};
  write_gpt_checkpoint(tmp.path + "/ckpt", *gpt, tok, tmpl);
  const Pretrained p = load_pretrained(tmp.path + "/ckpt", {});
  EXPECT_EQ(p.dir, tmp.path + "/ckpt");
  EXPECT_EQ(p.model->family(), "gpt");
  EXPECT_FALSE(p.model->is_training());
  for (const auto& [name, t] : state_dict(*gpt)) EXPECT_TRUE(torch::equal(state_dict(*p.model).at(name), t)) << name;
  ASSERT_TRUE(p.tokenizer);
  EXPECT_EQ(p.tokenizer->content_hash(), tok->content_hash());
  ASSERT_TRUE(p.chat_template.has_value());
  EXPECT_EQ(p.chat_template->name(), "mine");
  EXPECT_EQ(p.chat_template->assistant_end(), "<|endoftext|>");
}

TEST(Pretrained, RunDirectoryMeansBestElseLast) {
  test::TempDir tmp("pretrained_run");
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), 16);
  const std::string run = tmp.path + "/run";
  write_gpt_checkpoint(run + "/checkpoints/step-00000010", *gpt, tok);
  sfs::create_directory_symlink("step-00000010", run + "/checkpoints/last");
  EXPECT_EQ(resolve_checkpoint_dir(run), run + "/checkpoints/last");
  write_gpt_checkpoint(run + "/checkpoints/step-00000005", *gpt, tok);
  sfs::create_directory_symlink("step-00000005", run + "/checkpoints/best");
  EXPECT_EQ(resolve_checkpoint_dir(run), run + "/checkpoints/best");
  EXPECT_EQ(load_pretrained(run, {}).dir, run + "/checkpoints/best");

  const UserError missing = user_error([&] { resolve_checkpoint_dir(tmp.path + "/nope"); });
  EXPECT_EQ(missing.message(), "model '" + tmp.path + "/nope' does not exist");
  const UserError neither = user_error([&] { resolve_checkpoint_dir(run + "/checkpoints"); });
  EXPECT_NE(neither.message().find("'" + run + "/checkpoints' is neither a checkpoint directory"), std::string::npos)
      << neither.message();
}

TEST(Pretrained, TokenizerLargerThanTheModelOrMissing) {
  test::TempDir tmp("pretrained_tok");
  auto tok = test::tiny_tokenizer();
  auto small = test::tiny_gpt(100, 16);
  write_gpt_checkpoint(tmp.path + "/small", *small, tok);
  const UserError big = user_error([&] { load_pretrained(tmp.path + "/small", {}); });
  EXPECT_NE(big.message().find("'" + tmp.path + "/small/tokenizer' has " + std::to_string(tok->vocab_size()) +
                               " tokens"),
            std::string::npos)
      << big.message();
  EXPECT_NE(big.message().find("'" + tmp.path + "/small/config.json' has vocab_size 100"), std::string::npos)
      << big.message();

  auto gpt = test::tiny_gpt(tok->vocab_size(), 16);
  write_gpt_checkpoint(tmp.path + "/bare", *gpt, nullptr);
  const UserError none = user_error([&] { load_pretrained(tmp.path + "/bare", {}); });
  EXPECT_NE(none.message().find("has no tokenizer"), std::string::npos) << none.message();
  EXPECT_FALSE(load_pretrained(tmp.path + "/bare", {/*require_tokenizer=*/false, /*language_model_for=*/""}).tokenizer);
}

TEST(Pretrained, LoraCheckpointGeneratesLikeTheModelItWasSavedFrom) {
  test::TempDir tmp("pretrained_lora");
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), 16);
  LoraConfig lc;
  lc.r = 2;
  lc.targets = {"c_attn"};
  attach_lora(*gpt, lc, "test");
  {
    torch::NoGradGuard ng;  // adapters start as the identity (B = 0): make them matter
    for (auto& p : gpt->named_parameters())
      if (p.key().find("lora_B") != std::string::npos) p.value().normal_(0.0, 0.5);
  }
  write_gpt_checkpoint(tmp.path + "/ckpt", *gpt, tok, nullptr, lc.to_json());
  const Pretrained p = load_pretrained(tmp.path + "/ckpt", {});
  EXPECT_TRUE(has_lora(*p.model));
  SamplingOptions o;
  o.temperature = 0;
  o.max_new_tokens = 8;
  EXPECT_EQ(Generator(p.model, tok, "ckpt").generate("the Program", o).ids,
            Generator(gpt, tok, "model").generate("the Program", o).ids);
}

TEST(Pretrained, BadChatTemplateNamesTheConfig) {
  test::TempDir tmp("pretrained_tmpl");
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), 16);
  write_gpt_checkpoint(tmp.path + "/ckpt", *gpt, tok, {{"user", "no content marker"}});
  const UserError e = user_error([&] { load_pretrained(tmp.path + "/ckpt", {}); });
  EXPECT_NE(e.message().find(tmp.path + "/ckpt/config.json"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace ptft
