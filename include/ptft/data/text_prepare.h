// ptft/data/text_prepare.h — corpora -> token shards (`ptft data prepare`). Torch-free.
//
// Reads the documents of the inputs (see text_inputs.h) in order, sends each to train or val
// by a hash of its text (stable across runs, thread counts and input order), tokenises them on
// `threads` workers and writes, in input order, each document's ids followed by the
// end-of-text token into shards (shard.h) of at most `shard_tokens` tokens:
//
//   OUT/train-00000.bin ...  OUT/val-00000.bin ...  OUT/meta.json  OUT/tokenizer/
//
// meta.json records the tokenizer (kind, content hash, vocab size, eot id), the dtype, the
// documents, tokens and shards per split, what was skipped and the inputs. Memory stays flat:
// at most a bounded number of documents (and bytes) is in flight, whatever the corpus size.
// OUT appears complete or not at all (written in a temporary sibling, renamed at the end).
//
//   PrepareOptions opt;
//   opt.inputs = {"data/text/general"};
//   opt.out = "data/shards/general";
//   PrepareSummary s = prepare_text_data(*load_tokenizer("runs/tok"), opt);
//   std::cerr << s.text();
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

struct PrepareProgress {
  int64_t files_done = 0, files_total = 0;
  uint64_t bytes = 0;        // input bytes read (after decompression)
  int64_t documents = 0;     // documents written
  int64_t tokens = 0;        // tokens written (both splits, end-of-text tokens included)
  double seconds = 0;
};

struct PrepareOptions {
  std::vector<std::string> inputs;         // files, directories (recursive), glob patterns
  std::string out;                         // output directory (must not exist, or be empty)
  double val_fraction = 0.05;              // share of documents (by hash) that go to val
  std::string format = "auto";             // auto | text | jsonl (auto: *.jsonl[.gz] are JSONL)
  std::string field = "text";              // JSONL: the field holding the text
  std::string split_documents = "file";    // text: one document per file | per blank-line block
  int threads = 0;                         // tokenizer workers; 0 = one per core
  int64_t shard_tokens = 100'000'000;      // tokens per shard file at most
  // Documents longer than this are read in pieces (flat memory for any file size); their split
  // is decided by the hash of the first piece (for all others: of the whole text).
  int64_t piece_bytes = 1 << 20;
  // encode() sees documents in segments of at most this many bytes, cut at line breaks (else
  // before a space), the end-of-text token only after the last: SentencePiece's encode time
  // and memory grow faster than the input (1.9 MB/s at 4 KB, 1.5 at 64 KB, 0.6 at 1 MB), and a
  // cut at a line break changes at most the pieces that would have spanned it.
  int64_t encode_segment_bytes = 16 << 10;
  bool force = false;                      // replace a non-empty `out`
  // Called from the calling thread about once per `progress_seconds` and once at the end.
  std::function<void(const PrepareProgress&)> progress;
  double progress_seconds = 2.0;
  // Polled between documents; when it returns true the run stops, leaves nothing behind and
  // throws UserError (e.g. StopSignals::requested after Ctrl-C).
  std::function<bool()> should_stop;

  void validate() const;  // UserError naming the option and the allowed values
};

struct PrepareSummary {
  int64_t files = 0;
  int64_t documents_train = 0, documents_val = 0;
  int64_t tokens_train = 0, tokens_val = 0;  // end-of-text tokens included
  int64_t skipped_binary = 0;   // files with NUL bytes in their first 8 KB
  int64_t skipped_empty = 0;    // blank documents
  int64_t invalid_utf8 = 0;     // documents in which invalid UTF-8 was replaced by U+FFFD (kept)
  int64_t replaced_bytes = 0;   // bytes replaced by U+FFFD, all documents together
  uint64_t input_bytes = 0;     // after decompression
  double seconds = 0;
  nlohmann::json meta;          // what OUT/meta.json holds
  // Multi-line human summary (documents, tokens, skipped, MB/s).
  std::string text() const;
};

// Whether a document with this text goes to val: a fixed function of the text (FNV-1a 64,
// finalised with splitmix64, mapped to [0, 1) and compared with `val_fraction`). Identical
// documents always land in the same split.
bool goes_to_val(const std::string& text, double val_fraction);

// Runs the whole preparation. `tokenizer.encode` is called from several threads at once.
// UserError for bad options, unreadable or malformed inputs (naming file:line), an empty
// corpus and an existing `out`; nothing is left behind on any error.
PrepareSummary prepare_text_data(const Tokenizer& tokenizer, const PrepareOptions& opt);

}  // namespace ptft
