// ptft/tokenizer/tokenizer.h — text <-> token ids, whatever the vocabulary's origin.
//
// Four kinds share this interface: SentencePiece models we train (BPE or unigram, byte
// fallback, lossless), GPT-2 byte-level BPE (HF vocab.json + merges.txt), BERT WordPiece
// (vocab.txt) and Hugging Face tokenizer.json (Llama, Qwen, Mistral, SmolLM: hf_tokenizer.h). Special tokens written literally in the text ("<|endoftext|>", "[SEP]") map to
// their ids; everything else is split by the tokenizer's own rules.
//
//   auto tok = load_tokenizer("runs/tok");             // ptft tokenizer dir or HF model dir
//   std::vector<int32_t> ids = tok->encode("Hello world");
//   std::string text = tok->decode(ids);
//   int32_t eot = tok->eot_id();                        // between documents in data shards
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptft {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // "sentencepiece", "gpt2-bpe", "wordpiece" or "tokenizer-json".
  virtual std::string kind() const = 0;
  // Ids of `text`; special tokens spelled out in the text become their ids. No BOS/EOS/CLS is
  // added (callers that need them add them).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Text of `ids` (special tokens included as their text, except padding).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual std::string id_to_token(int32_t id) const = 0;
  virtual std::optional<int32_t> token_to_id(const std::string& token) const = 0;
  // The token that ends a document: <|endoftext|> (GPT-2, SentencePiece) or [SEP] (WordPiece).
  virtual int32_t eot_id() const = 0;
  // The special tokens of this vocabulary, in id order.
  virtual std::vector<std::string> special_tokens() const = 0;
  // Hash of the vocabulary files: shards record it, loaders compare it (FNV-1a 64, hex).
  virtual std::string content_hash() const = 0;
  // Copies the files that define this tokenizer into `dir` (a checkpoint's tokenizer/).
  virtual void save(const std::string& dir) const = 0;
  // The ids the tokenizer's own post-processor puts before a text (Llama-2's "<s>", Llama-3's
  // "<|begin_of_text|>"; none for GPT-2, Qwen, WordPiece and ptft's SentencePiece): data
  // preparation starts each document with them and generation each prompt, as transformers'
  // tokenizer(text) does.
  virtual std::vector<int32_t> document_prefix() const { return {}; }
  // decode() for text shown while it grows (generation streams): without the clean-up of spaces
  // before punctuation that would rewrite text already shown (clean_up_tokenization_spaces).
  virtual std::string decode_stream(const std::vector<int32_t>& ids) const { return decode(ids); }
  // The Jinja chat template that came with the tokenizer ("" = none).
  virtual std::string chat_template() const { return {}; }
};
using TokenizerPtr = std::shared_ptr<const Tokenizer>;

// Opens a ptft tokenizer directory (tokenizer_config.json + its files), a Hugging Face model
// directory (tokenizer.json, vocab.json + merges.txt, or vocab.txt), a checkpoint (tokenizer/),
// an exported HF directory (ptft_tokenizer/) or a run directory (its best, else last checkpoint's).
// Errors name the directory and what is missing.
TokenizerPtr load_tokenizer(const std::string& dir);
// The tokenizer of a checkpoint, shard, run or model directory (as load_tokenizer looks), or null
// when it has none. Damaged tokenizer files are still UserErrors.
TokenizerPtr find_tokenizer(const std::string& dir);

}  // namespace ptft
