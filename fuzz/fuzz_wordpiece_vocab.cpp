// fuzz_wordpiece_vocab — libFuzzer target for ptft::WordPiece::from_dir (BERT's vocab.txt and
// Hugging Face's tokenizer_config.json: downloaded, untrusted files), then encode and decode.
//
// Input layout: vocab.txt, NUL, tokenizer_config.json, NUL, a text (fuzz_input.h); an empty
// tokenizer_config.json is absent. Loading must give a tokenizer or a ptft::UserError; every
// other exception, every sanitizer report, a hang (-timeout) and runaway memory (-rss_limit_mb)
// are crashes. A tokenizer that loads encodes the text (UserError only for text that is not
// UTF-8; ids in [0, vocab_size)) and decodes those ids without error.
//
//   build-fuzz/fuzz_wordpiece_vocab -max_total_time=120 /tmp/wp-corpus tests/tokenizer/fuzz_corpus_wordpiece_vocab
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "fuzz_tokenizer.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/wordpiece.h"

namespace {

void use(const ptft::WordPiece& tok, const std::string& text) {
  fuzz_tokenizer::encode_decode(tok, text, "fuzz_wordpiece_vocab");
  tok.special_tokens();
  try {
    tok.eot_id();
  } catch (const ptft::UserError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = fuzz_input::split(data, size, 3);
  const std::string& dir = fuzz_input::scratch_dir();
  fuzz_input::write(dir, "vocab.txt", parts[0]);
  fuzz_input::write(dir, "tokenizer_config.json", parts[1], /*absent_if_empty=*/true);
  fuzz_tokenizer::load_then_use(
      "fuzz_wordpiece_vocab", [&] { return ptft::WordPiece::from_dir(dir); },
      [&](const ptft::WordPiece& tok) { use(tok, parts[2]); });
  return 0;
}
