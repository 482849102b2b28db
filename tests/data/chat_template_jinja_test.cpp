// ChatTemplate over the real Jinja chat templates of Llama-3 and Qwen3 (fetched by
// scripts/fetch-hf-tokenizers.sh): the prompt is apply_chat_template's with a generation prompt,
// an SFT conversation's trained pieces are exactly each answer and its end-of-turn text, the
// stop string is the template's end of turn, and the JSON form round-trips.
#include <gtest/gtest.h>

#include "../common/hf_tokenizers.h"
#include "../common/user_error.h"
#include "ptft/data/chat_template.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {
namespace {

std::string trained_text(const std::vector<ChatPiece>& pieces) {
  std::string s;
  for (const auto& p : pieces)
    if (p.trained) s += "[" + p.text + "]";
  return s;
}

std::string all_text(const std::vector<ChatPiece>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p.text;
  return s;
}

const std::vector<ChatMessage> kConversation = {{"system", "You are terse."},
                                                {"user", "What is a tort?"},
                                                {"assistant", "A civil wrong."},
                                                {"user", "Give an example."},
                                                {"assistant", "Negligence."}};

TEST(ChatTemplateJinja, Llama3PromptPiecesAndStop) {
  PTFT_REQUIRE_HF_TOKENIZERS();
  const TokenizerPtr tok = load_tokenizer(test::hf_tokenizer_dir("llama3"));
  auto t = ChatTemplate::of_tokenizer(*tok, "llama3 chat_template");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->is_jinja());
  EXPECT_EQ(t->assistant_end(), "<|eot_id|>");
  const std::string prompt = t->render_prompt({{"user", "Hi"}});
  EXPECT_EQ(prompt.rfind("<|begin_of_text|>", 0), 0u) << prompt;
  EXPECT_NE(prompt.find("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"), std::string::npos) << prompt;
  const std::string tail = "<|start_header_id|>assistant<|end_header_id|>\n\n";
  ASSERT_GT(prompt.size(), tail.size());
  EXPECT_EQ(prompt.substr(prompt.size() - tail.size()), tail) << prompt;

  const auto pieces = t->render_pieces(kConversation);
  EXPECT_EQ(trained_text(pieces), "[A civil wrong.<|eot_id|>][Negligence.<|eot_id|>]");
  // The pieces are the whole rendering, in order.
  EXPECT_EQ(all_text(pieces), t->render_prompt(kConversation).substr(0, all_text(pieces).size()));

  // Stored in config.json and read back: the same template.
  const ChatTemplate back = ChatTemplate::from_json(t->to_json(), "config.json ptft.chat_template");
  EXPECT_TRUE(back.is_jinja());
  EXPECT_EQ(back.render_prompt(kConversation), t->render_prompt(kConversation));
}

TEST(ChatTemplateJinja, Qwen3TrainsTheTurnsItRendersAsGenerated) {
  PTFT_REQUIRE_HF_TOKENIZERS();
  const TokenizerPtr tok = load_tokenizer(test::hf_tokenizer_dir("qwen3"));
  auto t = ChatTemplate::of_tokenizer(*tok, "qwen3 chat_template");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->assistant_end(), "<|im_end|>");
  const std::string prompt = t->render_prompt({{"user", "Hi"}});
  EXPECT_EQ(prompt, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") << prompt;
  // One answer: its text and end of turn are trained.
  const auto one = t->render_pieces({{"user", "Hi"}, {"assistant", "Hello."}});
  const std::string trained = trained_text(one);
  EXPECT_NE(trained.find("Hello.<|im_end|>"), std::string::npos) << trained;
  EXPECT_EQ(trained.find("<|im_start|>"), std::string::npos) << trained;
}

TEST(ChatTemplateJinja, BrokenTemplatesAreUserErrors) {
  const std::string err = test::user_error([] { ChatTemplate::from_jinja("{% include 'x' %}", "my template", "", ""); });
  EXPECT_NE(err.find("my template"), std::string::npos) << err;
  EXPECT_NE(err.find("include"), std::string::npos) << err;
}

}  // namespace
}  // namespace ptft
