// tokenizer_from_gguf (ptft/tokenizer/gguf_vocab.h) on hand-written tokenizer.ggml.* keys: what a
// damaged or hostile GGUF file gets (the round trips through real tokenizers are in
// tests/e2e/gguf_test.cpp and tests/io/gguf_model_test.cpp, which need torch).
#include "ptft/tokenizer/gguf_vocab.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../common/user_error.h"
#include "ptft/io/gguf.h"

namespace ptft {
namespace {

// A byte-level (gpt2) vocabulary of the tokens a, b, ab and `extra`, with the merge "a b".
std::shared_ptr<gguf::File> gpt2_file(const std::string& extra, const std::string& chat_template = "") {
  gguf::Writer w;
  w.set("tokenizer.ggml.model", "gpt2");
  w.set("tokenizer.ggml.pre", "gpt-2");
  w.set("tokenizer.ggml.tokens", std::vector<std::string>{"a", "b", "ab", extra});
  w.set("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
  if (!chat_template.empty()) w.set("tokenizer.chat_template", chat_template);
  return gguf::File::from_bytes(w.to_bytes(), "t.gguf");
}

TEST(GgufVocabRead, ByteLevelTokensAndMerges) {
  const TokenizerPtr tok = tokenizer_from_gguf(*gpt2_file("c"));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("abc"), (std::vector<int32_t>{2, 3}));
}

// fuzz_gguf_tokenizer: a token that is not UTF-8 escaped as a nlohmann::json type_error (316)
// when the tokenizer.json was built; now a UserError naming the key and index.
TEST(GgufVocabRead, StringsThatAreNotUtf8AreAUserErrorNamingTheKey) {
  const std::string err = test::user_error_of([&] { tokenizer_from_gguf(*gpt2_file("\xC6")); });
  EXPECT_NE(err.find("t.gguf': tokenizer.ggml.tokens[3] is not valid UTF-8: byte 0xC6"), std::string::npos) << err;
  const std::string tmpl = test::user_error_of([&] { tokenizer_from_gguf(*gpt2_file("c", "{{ x }}\xFF")); });
  EXPECT_NE(tmpl.find("tokenizer.chat_template is not valid UTF-8"), std::string::npos) << tmpl;
}

}  // namespace
}  // namespace ptft
