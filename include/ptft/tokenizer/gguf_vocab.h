// ptft/tokenizer/gguf_vocab.h — a tokenizer as llama.cpp's GGUF files describe it
// (tokenizer.ggml.* keys), from the files the tokenizer saves.
//
//   kind              tokenizer.ggml.model  pre              tokens, merges / scores
//   gpt2-bpe          gpt2                  gpt-2            vocab.json, merges.txt
//   tokenizer-json    gpt2                  from the pre-tokenizer: llama-bpe (Llama-3's Split regex),
//   (byte-level BPE)                        qwen2 (Qwen2/3's), smollm (Digits + ByteLevel), gpt-2
//                                           (ByteLevel alone); any other: a UserError (llama.cpp would
//                                           cut the text differently)
//   tokenizer-json    llama                 default          the vocabulary; scores = minus the rank of
//   (SentencePiece-                                          the merge that makes the token (llama.cpp's
//   style BPE, byte                                          SPM merges the best-scored pair first)
//   fallback)
//   sentencepiece     llama                 default          spm.vocab's pieces and scores (bpe models;
//   (ptft's)                                                 unigram: a UserError)
// Token types (llama.cpp): 1 normal, 2 unknown, 3 control (special tokens), 4 user-defined
// (added, not special), 5 unused (padding up to the model's vocabulary), 6 byte (<0xNN>).
// bos: the token the tokenizer puts before a document (add_bos_token when there is one); eos: its
// end-of-text token. The vocabulary is padded to the model's size with "[PAD<id>]" tokens, as
// llama.cpp's converter does: llama.cpp requires as many tokens as embedding rows.
//
//   GgufVocab v = gguf_vocab_of(*tokenizer, model.vocab_size());
//   write_gguf_vocab(v, writer);                       // tokenizer.ggml.* (+ chat template)
//   TokenizerPtr t = tokenizer_from_gguf(*file);        // and back (gguf_vocab_read.cpp)
//
// Reading builds the tokenizer.json that stands for the keys (llama.cpp's tokenizers are
// tokenizer.json's): gpt2 -> byte-level BPE with the pre-tokenizer `pre` names (llama-bpe, qwen2
// with Qwen's NFC, smollm, gpt-2; others refused by name); llama -> SentencePiece-style BPE with
// byte fallback, its merges made from the scores as Hugging Face's converter makes them (each
// token's splits into two tokens, best-scored token first). Control tokens become special added
// tokens, unused ones are dropped; add_bos_token puts bos before each document.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptft/io/gguf.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

enum class GgufTokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct GgufVocab {
  std::string model;                    // tokenizer.ggml.model: gpt2 | llama
  std::string pre;                      // tokenizer.ggml.pre
  std::vector<std::string> tokens;      // in id order, padded to the model's vocabulary
  std::vector<int32_t> token_types;     // GgufTokenType per token
  std::vector<float> scores;            // llama only
  std::vector<std::string> merges;      // gpt2 only: "left right", by rank
  std::optional<int32_t> bos, eos, unk, pad;
  bool add_bos = false;
  bool add_space_prefix = false;        // llama only: SentencePiece's dummy prefix
  std::string chat_template;            // tokenizer.chat_template ("" = none)
};

// UserError when the tokenizer cannot be written for llama.cpp (naming why), or when it has
// more tokens than `model_vocab`.
GgufVocab gguf_vocab_of(const Tokenizer& tok, int64_t model_vocab);
void write_gguf_vocab(const GgufVocab& v, gguf::Writer& w);

// The tokenizer a GGUF file carries; null when it has no tokenizer.ggml.model. UserError for a
// model or pre-tokenizer ptft does not read (naming it and the key).
TokenizerPtr tokenizer_from_gguf(const gguf::File& f);

// The tokenizer.json (+ tokenizer_config.json, tokenizer_class PreTrainedTokenizerFast) that
// stands for `v`; `where` names it in errors.
struct TokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
};
TokenizerFiles tokenizer_json_of(const GgufVocab& v, const std::string& where);
// `tok` (e.g. a SentencePiece BPE tokenizer ptft trained) as the equivalent tokenizer.json
// tokenizer, which Hugging Face's tokenizers read; UserError when it has no such form (unigram).
TokenizerPtr as_tokenizer_json(const Tokenizer& tok);

}  // namespace ptft
