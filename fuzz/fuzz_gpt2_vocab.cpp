// fuzz_gpt2_vocab — libFuzzer target for ptft::Gpt2Bpe::from_dir (GPT-2's vocab.json +
// merges.txt, Hugging Face's added_tokens.json and ptft's tokenizer_config.json: downloaded,
// untrusted files), then encode and decode.
//
// Input layout: vocab.json, NUL, merges.txt, NUL, added_tokens.json, NUL, tokenizer_config.json,
// NUL, a text (fuzz_input.h); an empty added_tokens.json or tokenizer_config.json is absent.
// Loading must give a tokenizer or a ptft::UserError; every other exception, every sanitizer
// report, a hang (-timeout) and runaway memory (-rss_limit_mb) are crashes. A tokenizer that
// loads must keep its promise decode(encode(text)) == text, for any bytes.
//
//   build-fuzz/fuzz_gpt2_vocab -max_total_time=120 /tmp/g2-corpus tests/tokenizer/fuzz_corpus_gpt2_vocab
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/gpt2_bpe.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_gpt2_vocab: %s: %s\n", what, detail.c_str());
  std::abort();
}

void use(const ptft::Gpt2Bpe& tok, const std::string& text) {
  const std::vector<int32_t> ids = tok.encode(text);
  for (const int32_t id : ids)
    if (id < 0 || id >= tok.vocab_size()) fail("id out of range", std::to_string(id));
  std::string back;
  try {
    back = tok.decode(ids);
  } catch (const ptft::UserError& e) {
    fail("decode of encode's ids failed", e.full());
  }
  if (back != text) fail("decode(encode(text)) != text", text + " -> " + back);
  tok.eot_id();
  tok.special_tokens();
  for (size_t i = 0; i < text.size() && i < 8; ++i) {
    try {
      tok.id_to_token(static_cast<unsigned char>(text[i]) * 3);
    } catch (const ptft::UserError&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = fuzz_input::split(data, size, 5);
  const std::string& dir = fuzz_input::scratch_dir();
  fuzz_input::write(dir, "vocab.json", parts[0]);
  fuzz_input::write(dir, "merges.txt", parts[1]);
  fuzz_input::write(dir, "added_tokens.json", parts[2], /*absent_if_empty=*/true);
  fuzz_input::write(dir, "tokenizer_config.json", parts[3], /*absent_if_empty=*/true);
  try {
    std::shared_ptr<const ptft::Gpt2Bpe> tok;
    try {
      tok = ptft::Gpt2Bpe::from_dir(dir);
    } catch (const ptft::UserError&) {
      return 0;  // rejected: expected for most inputs
    }
    use(*tok, parts[4]);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
