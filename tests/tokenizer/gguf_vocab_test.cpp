// A SentencePiece BPE tokenizer ptft trained, as GGUF describes it and as the tokenizer.json that
// stands for that description (tokenizer/gguf_vocab.h): the same ids and text as SentencePiece
// itself on licence texts and on thousands of random strings (spaces, tabs, newlines, digits,
// accents, CJK, emoji, special-token text). What llama.cpp makes of the same files is checked in
// tests/e2e/gguf_test.cpp.
#include "ptft/tokenizer/gguf_vocab.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"

namespace ptft {
namespace {

std::shared_ptr<SentencePieceTokenizer> trained(const std::string& dir, const std::string& type, int32_t vocab) {
  SpmTrainOptions o;
  o.inputs = {"/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0"};
  o.out_dir = dir;
  o.vocab_size = vocab;
  o.model_type = type;
  o.num_threads = 1;
  train_sentencepiece(o);
  return SentencePieceTokenizer::from_dir(dir);
}

// Random text from pieces a tokenizer meets: words, runs of spaces, tabs, newlines, digits,
// punctuation, accented letters, CJK, emoji and the special token's text. Not U+2581 "▁" itself:
// ptft's SentencePiece encodes a literal one as its three bytes (so that it does not come back as
// a space), tokenizer.json and llama.cpp read it as the space it stands for (docs/formats.md).
std::string random_text(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {
      "the", "License", " ", "  ", "    ", "\t", "\n", "\n\n", "0", "12", "345", ".", ",", "(a)", "-", "'s",
      "caf\xC3\xA9", "\xC3\xBC", "\xE4\xBD\xA0\xE5\xA5\xBD", "\xF0\x9F\x98\x80", "<|endoftext|>", "x", "Program",
      "copyright", "GNU", "\xE2\x80\x94", "Z", "q", "\"", "\xCE\xB1\xCE\xB2"};
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1), len(1, 12);
  std::string s;
  for (size_t i = 0, n = len(rng); i < n; ++i) s += pieces[pick(rng)];
  return s;
}

TEST(GgufVocab, SentencePieceBpeAsTokenizerJsonEncodesAndDecodesAsSentencePiece) {
  test::TempDir tmp("gguf-vocab");
  const auto sp = trained(tmp.path + "/tok", "bpe", 600);
  const GgufVocab v = gguf_vocab_of(*sp, 640);
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.tokens.size(), 640u) << "padded to the model's vocabulary";
  EXPECT_EQ(v.tokens[639], "[PAD639]");
  EXPECT_EQ(v.token_types[*sp->token_to_id("<|endoftext|>")], static_cast<int32_t>(GgufTokenType::kControl));
  EXPECT_EQ(v.token_types[*sp->token_to_id("<0x0A>")], static_cast<int32_t>(GgufTokenType::kByte));
  EXPECT_EQ(v.eos, sp->eot_id());
  EXPECT_FALSE(v.add_bos);

  const TokenizerPtr json = as_tokenizer_json(*sp);
  EXPECT_EQ(json->kind(), "tokenizer-json");
  std::ifstream licence("/usr/share/common-licenses/GPL-3");
  std::stringstream text;
  text << licence.rdbuf();
  std::istringstream lines(text.str());
  int checked = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(json->encode(line), sp->encode(line)) << line;
    ++checked;
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const std::string s = random_text(rng);
    const auto ids = sp->encode(s);
    ASSERT_EQ(json->encode(s), ids) << s;
    ASSERT_EQ(json->decode(ids), sp->decode(ids)) << s;
  }
  EXPECT_GT(checked, 600);
}

TEST(GgufVocab, UnigramHasNoGgufFormAndALargerTokenizerIsRefused) {
  test::TempDir tmp("gguf-vocab");
  const auto uni = trained(tmp.path + "/uni", "unigram", 500);
  const std::string err = test::user_error_of([&] { gguf_vocab_of(*uni, 500); });
  EXPECT_NE(err.find("unigram"), std::string::npos) << err;
  EXPECT_NE(err.find("--type bpe"), std::string::npos) << err;
  const auto bpe = trained(tmp.path + "/bpe", "bpe", 500);
  const std::string big = test::user_error_of([&] { gguf_vocab_of(*bpe, 100); });
  EXPECT_NE(big.find("vocab_size is 100"), std::string::npos) << big;
}

}  // namespace
}  // namespace ptft
