// fuzz_tokenizer_json — libFuzzer target for ptft::HfTokenizer::from_json (a downloaded
// tokenizer.json + tokenizer_config.json: untrusted input), then encode and decode.
//
// Input layout: tokenizer.json, NUL, tokenizer_config.json, NUL, a text (fuzz_input.h); missing
// parts are empty ("" config: none).
//
// Loading must give a tokenizer or a ptft::UserError; every other exception, every sanitizer
// report, a hang (-timeout) and runaway memory (-rss_limit_mb) are crashes. A tokenizer that
// loads encodes the text (ids in [0, vocab_size)), decodes those ids without error, and decodes
// ids drawn from the text's bytes (unknown ids: UserError).
//
//   build-fuzz/fuzz_tokenizer_json -max_total_time=120 /tmp/tj-corpus tests/tokenizer/fuzz_corpus_tokenizer_json
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/hf_tokenizer.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_tokenizer_json: %s: %s\n", what, detail.c_str());
  std::abort();
}

void use(const ptft::HfTokenizer& tok, const std::string& text) {
  const int32_t vocab = tok.vocab_size();
  const std::vector<int32_t> ids = tok.encode(text);
  for (const int32_t id : ids)
    if (id < 0 || id >= vocab) fail("id out of range", std::to_string(id) + " of " + std::to_string(vocab));
  const std::vector<int32_t> with_specials = tok.encode_with_specials(text);
  if (with_specials.size() < ids.size()) fail("encode_with_specials lost ids", text);
  try {
    tok.decode(ids);
    tok.decode_stream(ids);
  } catch (const ptft::UserError& e) {
    fail("decode of encode's ids failed", e.full());
  }
  // Ids from the text's bytes, some past the vocabulary.
  std::vector<int32_t> drawn;
  for (size_t i = 0; i < text.size() && i < 16; ++i) drawn.push_back(static_cast<unsigned char>(text[i]) % (vocab + 2));
  try {
    tok.decode(drawn);
  } catch (const ptft::UserError&) {
  }
  for (const int32_t id : drawn) {
    try {
      const std::optional<int32_t> back = tok.token_to_id(tok.id_to_token(id));
      if (back && (*back < 0 || *back >= vocab)) fail("token_to_id out of range", std::to_string(*back));
    } catch (const ptft::UserError&) {
    }
  }
  try {
    tok.eot_id();
  } catch (const ptft::UserError&) {
  }
  tok.special_tokens();
  tok.token_to_id(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = fuzz_input::split(data, size, 3);
  const std::string& tokenizer_json = parts[0];
  const std::string& config_json = parts[1];
  const std::string& text = parts[2];
  try {
    std::shared_ptr<const ptft::HfTokenizer> tok;
    try {
      tok = ptft::HfTokenizer::from_json(tokenizer_json, config_json, "fuzz");
    } catch (const ptft::UserError&) {
      return 0;  // rejected: expected for most inputs
    }
    use(*tok, text);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
