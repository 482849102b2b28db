// ptft/tokenizer/sentencepiece_tokenizer.h — train and apply SentencePiece BPE/unigram
// vocabularies that lose nothing: decode(encode(x)) == x for any valid UTF-8 x.
//
// Training settings that make it lossless: byte fallback (characters outside the vocabulary
// become <0xNN> byte pieces), the "identity" normalisation (no NFKC, no removal of control
// characters), no extra-whitespace removal and no dummy prefix (leading spaces and runs of
// spaces survive), whitespace-only pieces allowed (indentation). Newlines and tabs are never in
// the training sentences (inputs are read line by line) and come out as byte pieces <0x0A>,
// <0x09>. SentencePiece shows spaces as U+2581 "▁" inside pieces; a literal U+2581 in the text is
// encoded as its three byte pieces so that it does not come back as a space.
//
// Special tokens (user-defined symbols: spelled out in text, they map to their ids; never split
// or merged by training) come first, in the order given, then the 256 byte pieces, then the learned
// pieces. They are data, set by the caller: `ptft tokenizer train --family NAME` takes the ones
// model family NAME declares (ModelFamily::tokenizer_*, models/model.h), e.g.
//   gpt:  <unk>=0 (never produced: byte fallback), <|endoftext|>=1 (eot)
//   bert: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3 (eot), [MASK]=4
// tokenizer_config.json records them in full, so loading needs no table of families.
//
// Streaming: the inputs (files, directories walked recursively, globs; .gz through zlib) are
// read line by line and handed to SentencePiece's trainer, which keeps a uniform random sample
// of at most `max_sentences` lines (reservoir sampling), so memory stays flat however large the
// corpus is. Non-text files (a NUL byte in the first 8 KiB, unreadable or corrupt .gz) are
// skipped and counted; lines that are not valid UTF-8 are skipped and counted.
//
// libsentencepiece is opened at run time (dlopen, kept apart from libtorch's protobuf; see the
// .cpp): the runtime package libsentencepiece0 must be installed, nothing links against it.
//
//   SpmTrainOptions o;
//   o.inputs = {"corpus/", "extra/*.txt.gz"};
//   o.vocab_size = 8000;
//   o.out_dir = "runs/tok";
//   SpmTrainSummary s = train_sentencepiece(o);  // runs/tok/{spm.model,spm.vocab,tokenizer_config.json}
//   auto tok = SentencePieceTokenizer::from_dir("runs/tok");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

class SpProcessor;  // libsentencepiece's processor, opened privately (see the .cpp)

// The special tokens of a vocabulary. SentencePiece needs an "unknown" piece even though byte
// fallback never produces it: `unk` names the special that plays it, or, empty, an extra "<unk>"
// takes id 0 and the specials follow from id 1.
struct SpmSpecials {
  std::vector<std::string> tokens = {"<|endoftext|>"};  // in id order
  std::string eot = "<|endoftext|>";  // end of text (document separator); one of `tokens`
  std::string unk;                    // one of `tokens`, or "" (an extra <unk> at id 0)
  std::string pad;                    // one of `tokens` (decode drops it), or "" (none)
};

struct SpmTrainOptions {
  std::vector<std::string> inputs;  // files, directories (recursive), globs; *.gz decompressed
  std::string out_dir;              // gets spm.model, spm.vocab, tokenizer_config.json
  int32_t vocab_size = 8000;        // total, including special tokens and the 256 byte pieces
  std::string model_type = "bpe";   // bpe | unigram
  SpmSpecials specials;             // default: <|endoftext|> alone (GPT-2's)
  int64_t max_sentences = 2000000;  // lines sampled for training (SentencePiece's input_sentence_size); 0 = all
  bool split_digits = true;         // every digit its own piece (numbers generalise better)
  uint32_t seed = 1337;             // sampling and shuffling
  int num_threads = 0;              // 0: all cores (at most 64)
  bool verbose = false;             // SentencePiece's own progress log on stderr
  // UserError naming the field, the value and what is allowed.
  void validate() const;
};

struct SpmTrainSummary {
  int64_t files = 0;               // text files read
  int64_t skipped_files = 0;       // not text (binary, unreadable, corrupt .gz)
  std::vector<std::string> skipped_examples;  // the first few skipped paths, with why
  int64_t lines = 0;               // non-empty lines handed to SentencePiece
  int64_t skipped_lines = 0;       // not valid UTF-8
  int64_t bytes = 0;               // bytes of text read (decompressed)
  int64_t split_lines = 0;         // lines longer than SentencePiece's limit, cut into parts
  int32_t vocab_size = 0;
  std::string out_dir;
};

// Trains and writes out_dir/{spm.model, spm.vocab, tokenizer_config.json}. A new out_dir
// appears complete or not at all; in an existing one each file is replaced atomically,
// tokenizer_config.json last. UserError: bad options, missing inputs, no text, vocab_size too
// large or too small for the corpus (with the numbers and the size that would work).
SpmTrainSummary train_sentencepiece(const SpmTrainOptions& opts);

class SentencePieceTokenizer : public Tokenizer {
 public:
  // DIR/spm.model + DIR/tokenizer_config.json (as written by train_sentencepiece; also the
  // older configs that name only a "family", converted in one marked place).
  static std::shared_ptr<SentencePieceTokenizer> from_dir(const std::string& dir);
  ~SentencePieceTokenizer() override;

  std::string kind() const override { return "sentencepiece"; }
  // UserError if `text` is not valid UTF-8 (names the offset).
  std::vector<int32_t> encode(std::string_view text) const override;
  // [PAD] is skipped; byte pieces that do not form valid UTF-8 come out as U+FFFD.
  // UserError for an id out of range.
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override;
  std::string id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  int32_t eot_id() const override { return eot_id_; }
  std::vector<std::string> special_tokens() const override;
  std::string content_hash() const override;  // of spm.model
  void save(const std::string& dir) const override;

  const std::string& model_type() const { return model_type_; }  // bpe | unigram

 private:
  SentencePieceTokenizer() = default;
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

  std::unique_ptr<SpProcessor> sp_;
  std::string model_bytes_;   // spm.model as read
  std::string config_text_;   // tokenizer_config.json as read
  std::string model_type_;
  std::vector<std::pair<std::string, int32_t>> specials_;  // in id order
  int32_t eot_id_ = -1;
  int32_t pad_id_ = -1;
  int32_t space_symbol_bytes_[3] = {-1, -1, -1};  // ids of <0xE2> <0x96> <0x81> (literal U+2581)
  std::string dir_;
};

}  // namespace ptft
