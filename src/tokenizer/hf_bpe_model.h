// src/tokenizer/hf_bpe_model.h — the "model" of tokenizer.json when its type is BPE: a piece of
// text -> token ids, with Hugging Face's merge order (the adjacent pair of lowest rank first, the
// leftmost among equals, one merge at a time), ignore_merges, byte_fallback ("<0xNN>" tokens),
// unk_token / fuse_unk, continuing_subword_prefix and end_of_word_suffix. Private to
// src/tokenizer/.
//
//   auto m = BpeModel::from_json(j["model"], at["model"], /*byte_level_input=*/true);
//   std::vector<int32_t> ids; m->encode_piece("Hello", &ids);
//
// With byte_level_input the pieces are raw bytes, each read as its letter of GPT-2's byte
// alphabet (what a final ByteLevel pre-tokenizer would have written); otherwise pieces are UTF-8
// text split into characters. encode_piece() is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hf_json.h"

namespace ptft::hf {

class BpeModel {
 public:
  // Errors (UserError naming `at`): a type other than BPE, dropout > 0, a vocabulary that is not
  // {token: id}, merges that are neither "a b" strings nor ["a", "b"] pairs, merges whose tokens
  // (or result) are not in the vocabulary, an unk_token missing from it.
  static std::unique_ptr<BpeModel> from_json(const Json& model, const JsonAt& at, bool byte_level_input);

  // Appends the ids of one piece (non-empty).
  void encode_piece(std::string_view piece, std::vector<int32_t>* out) const;

  // The vocabulary: token text by id ("" where no token has the id) and the reverse.
  const std::vector<std::string>& tokens() const { return id_to_token_; }
  const std::unordered_map<std::string, int32_t>& ids() const { return token_to_id_; }
  // id_used()[id]: some token has this id.
  const std::vector<bool>& id_used() const { return id_used_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  struct MergeSlot {
    uint64_t key;  // (left << 32) | right; all ones when free
    int32_t rank;
    int32_t merged;
  };
  struct Symbol {
    int32_t id;     // -1: a character that is not in the vocabulary
    uint32_t from;  // its bytes in the piece: [from, to)
    uint32_t to;
  };

  BpeModel() = default;
  const MergeSlot* find_merge(int32_t a, int32_t b) const;
  void add_merge(int32_t a, int32_t b, int32_t rank, int32_t merged);
  // The symbols of a piece before any merge.
  void initial_symbols(std::string_view piece, std::vector<Symbol>* symbols) const;
  void merge_short(std::vector<Symbol>* symbols) const;
  void merge_long(std::vector<Symbol>* symbols) const;
  // Appends the ids of the merged symbols; unknown characters become byte tokens, unk or nothing.
  void emit(std::string_view piece, const std::vector<Symbol>& symbols, std::vector<int32_t>* out) const;

  std::vector<std::string> id_to_token_;
  std::vector<bool> id_used_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<MergeSlot> merge_table_;
  int merge_table_bits_ = 0;
  int32_t byte_token_[256];  // id of "<0xNN>", -1 when missing (byte_fallback)
  int32_t byte_letter_[256];  // id of each byte's alphabet letter, -1 when missing (byte-level input)
  bool byte_level_input_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
  std::string prefix_;  // continuing_subword_prefix
  std::string suffix_;  // end_of_word_suffix
};

}  // namespace ptft::hf
