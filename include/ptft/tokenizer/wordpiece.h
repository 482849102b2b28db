// ptft/tokenizer/wordpiece.h — BERT WordPiece from a vocab.txt, as Google's BERT and Hugging
// Face's BertTokenizer do it.
//
// BasicTokenizer: drop U+0000, U+FFFD and control characters, turn whitespace into spaces; put
// spaces around CJK ideographs; split on whitespace; uncased: lower-case, then NFD and drop
// non-spacing marks (accents); split off every punctuation character (Unicode P* and the ASCII
// symbols !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~). Then WordPiece: greedy longest-match-first with
// "##" on continuation pieces; a word that cannot be covered, or longer than 100 characters,
// becomes [UNK]. Special tokens spelled out in the text ("[CLS]", "[SEP]", exact case) are cut
// out first and become their ids.
//
// decode() joins the tokens with spaces and glues "##" pieces to the previous token, so it
// gives back the normalised text (lower-cased, accents stripped, spaces around punctuation),
// not the original.
//
//   auto wp = WordPiece::from_dir("bert-base-uncased");        // vocab.txt [+ tokenizer_config.json]
//   wp->tokenize("unaffable");                                  // {"un", "##aff", "##able"}
//   wp->encode("Héllo, World!");                                // ids of hello , world !
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

struct WordPieceOptions {
  bool do_lower_case = true;           // uncased BERT: lower-case (+ strip accents, see below)
  std::optional<bool> strip_accents;   // unset: strip exactly when do_lower_case (HF's default)
  bool tokenize_chinese_chars = true;  // spaces around CJK ideographs (one token each)
  int max_input_chars_per_word = 100;  // longer words become [UNK]
};

// BERT's BasicTokenizer on UTF-8 `text` (UserError if it is not valid UTF-8): the words and
// punctuation marks that WordPiece then splits.
std::vector<std::string> bert_basic_tokenize(std::string_view text, const WordPieceOptions& opts);

class WordPiece : public Tokenizer {
 public:
  static constexpr const char* kUnkToken = "[UNK]";

  // `tokens[i]` has id i. `origin` names where they came from, for messages.
  // UserError: no [UNK] in the vocabulary.
  WordPiece(std::vector<std::string> tokens, WordPieceOptions opts, std::string origin = "vocab");
  // vocab.txt: one token per line (LF or CRLF), id = line number (from 0).
  // UserError: missing/empty file, invalid UTF-8 or NUL bytes (line named), no [UNK].
  static std::shared_ptr<WordPiece> from_vocab_file(const std::string& path, WordPieceOptions opts = {});
  // A directory with vocab.txt and, optionally, tokenizer_config.json: ptft's, or Hugging
  // Face's (do_lower_case, strip_accents, tokenize_chinese_chars; other keys are ignored).
  static std::shared_ptr<WordPiece> from_dir(const std::string& dir);

  std::string kind() const override { return "wordpiece"; }
  std::vector<int32_t> encode(std::string_view text) const override;
  // Tokens joined by spaces, " ##" removed; [PAD] skipped. UserError for an id out of range.
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(tokens_.size()); }
  std::string id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  int32_t eot_id() const override;  // [SEP] (or [UNK] when the vocabulary has no [SEP])
  // The ones of [PAD] [UNK] [CLS] [SEP] [MASK] that the vocabulary has, in id order.
  std::vector<std::string> special_tokens() const override;
  std::string content_hash() const override;
  // Writes vocab.txt and tokenizer_config.json {"type": "wordpiece", "do_lower_case", ...}.
  void save(const std::string& dir) const override;

  // The token strings that encode() maps to ids.
  std::vector<std::string> tokenize(std::string_view text) const;
  const WordPieceOptions& options() const { return opts_; }

 private:
  // Appends the WordPiece split of one basic token.
  void split_word(const std::string& word, std::vector<std::string>& out) const;
  std::string vocab_text() const;  // canonical vocab.txt

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
  WordPieceOptions opts_;
  std::string origin_;
  int32_t unk_id_ = 0;
  std::vector<std::pair<std::string, int32_t>> specials_;  // in id order
};

}  // namespace ptft
