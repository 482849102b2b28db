// fuzz_sentencepiece — libFuzzer target for ptft::SentencePieceTokenizer::from_dir (a downloaded
// tokenizer/: spm.model, a protobuf, and tokenizer_config.json), then encode and decode.
// libsentencepiece is dlopen()ed as in ptft (uninstrumented: a crash inside it shows as a SEGV
// or an abort, an out-of-bounds read inside it does not show).
//
// Input layout: spm.model, NUL, tokenizer_config.json, NUL, a text (fuzz_input.h); the model's
// bytes may hold NULs, so the split is at the LAST two NULs (a model without any is the whole
// input). Loading must give a tokenizer or a ptft::UserError; every other exception, every
// sanitizer report, a hang (-timeout) and runaway memory (-rss_limit_mb) are crashes. A tokenizer
// that loads encodes the text (UserError only for text that is not UTF-8; ids in
// [0, vocab_size)) and decodes those ids without error.
//
//   build-fuzz/fuzz_sentencepiece -max_total_time=600 /tmp/spm-corpus tests/tokenizer/fuzz_corpus_sentencepiece
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
#include "ptft/tokenizer/sentencepiece_tokenizer.h"

namespace {

// {model, config, text}: cut at the last two NULs (text and JSON need none; a protobuf does).
std::vector<std::string> split_from_end(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t second = in.rfind('\0');
  if (second == std::string::npos) return {in, "", ""};
  const size_t first = second == 0 ? std::string::npos : in.rfind('\0', second - 1);
  if (first == std::string::npos) return {in.substr(0, second), in.substr(second + 1), ""};
  return {in.substr(0, first), in.substr(first + 1, second - first - 1), in.substr(second + 1)};
}

void use(const ptft::SentencePieceTokenizer& tok, const std::string& text) {
  fuzz_tokenizer::encode_decode(tok, text, "fuzz_sentencepiece");
  for (const auto& s : tok.special_tokens())
    if (!tok.token_to_id(s)) fuzz_tokenizer::fail("fuzz_sentencepiece", "a special token without an id", s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = split_from_end(data, size);
  const std::string& dir = fuzz_input::scratch_dir();
  fuzz_input::write(dir, "spm.model", parts[0]);
  fuzz_input::write(dir, "tokenizer_config.json", parts[1]);
  fuzz_tokenizer::load_then_use(
      "fuzz_sentencepiece", [&] { return ptft::SentencePieceTokenizer::from_dir(dir); },
      [&](const ptft::SentencePieceTokenizer& tok) { use(tok, parts[2]); });
  return 0;
}
