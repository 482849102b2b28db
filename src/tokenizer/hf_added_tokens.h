// src/tokenizer/hf_added_tokens.h — the "added_tokens" of tokenizer.json: strings that always
// become their own id, never split ("<|begin_of_text|>", "</s>", "<think>"). Private to
// src/tokenizer/.
//
// As Hugging Face tokenizers: the tokens with "normalized": false are found in the raw text,
// those with "normalized": true in the normalised text (their content normalised the same way);
// at any position the longest token wins, the leftmost first; "lstrip" / "rstrip" take the
// whitespace on that side with the token, "single_word" matches only when no letter, digit or '_'
// touches the token.
//
//   AddedTokens added = AddedTokens::from_json(j["added_tokens"], at["added_tokens"]);
//   added.split(text, /*normalized=*/false,
//               [&](std::string_view part, bool at_start) { ... }, [&](int32_t id) { ... });
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hf_json.h"
#include "white_space.h"

namespace ptft::hf {

class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

class AddedTokens {
 public:
  static AddedTokens from_json(const Json& list, const JsonAt& at);
  // Builds the matchers; `normalizer` (may be null) normalises the content of normalized tokens.
  void prepare(const Normalizer* normalizer);

  const std::vector<AddedToken>& tokens() const { return tokens_; }

  // Cuts `text` at the tokens of one kind (normalized or not): on_text(part, at_start) for each
  // non-empty stretch between them (at_start: it begins where `text` does and `text_at_start`),
  // on_token(id) for each token.
  template <class OnText, class OnToken>
  void split(std::string_view text, bool normalized, bool text_at_start, OnText&& on_text,
             OnToken&& on_token) const {
    const Trie& trie = normalized ? normalized_ : raw_;
    if (trie.empty()) {
      if (!text.empty()) on_text(text, text_at_start);
      return;
    }
    std::size_t done = 0;  // text before this is consumed
    for (std::size_t i = 0; i < text.size();) {
      std::size_t len = 0;
      const int32_t k = trie.longest(text, i, &len);
      if (k < 0) {
        ++i;
        continue;
      }
      const AddedToken& t = tokens_[static_cast<std::size_t>(k)];
      if (t.single_word && !single_word_ok(text, i, i + len)) {
        i += len;
        continue;
      }
      std::size_t begin = i, end = i + len;
      if (t.lstrip) begin = white_space_begin(text, begin, done);
      if (t.rstrip) end = white_space_end(text, end);
      if (begin > done) on_text(text.substr(done, begin - done), text_at_start && done == 0);
      on_token(t.id);
      done = end;
      i = end;
    }
    if (done < text.size()) on_text(text.substr(done), text_at_start && done == 0);
  }

 private:
  // Byte trie over token contents; longest() gives the index into tokens_ of the longest token
  // starting at text[i], or -1.
  class Trie {
   public:
    void add(const std::string& s, int32_t index);
    bool empty() const { return nodes_.size() <= 1; }
    int32_t longest(std::string_view text, std::size_t i, std::size_t* len) const;

   private:
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> next;
      int32_t token = -1;
    };
    std::vector<Node> nodes_ = std::vector<Node>(1);
  };

  static bool single_word_ok(std::string_view text, std::size_t begin, std::size_t end);

  std::vector<AddedToken> tokens_;  // file order
  Trie raw_, normalized_;
};

}  // namespace ptft::hf
