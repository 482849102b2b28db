// fuzz_tokenizer.h — what the tokenizer fuzz targets share: loading (a ptft::UserError rejects
// the input, any other exception is a finding) and the check that a loaded tokenizer encodes a
// text (a UserError only for text that is not UTF-8), every id is in [0, vocab_size), and
// decoding those ids does not fail. A finding prints the target's name and aborts.
//
//   fuzz_tokenizer::load_then_use("fuzz_wordpiece_vocab", [&] { return WordPiece::from_dir(dir); },
//                                 [&](const WordPiece& tok) { fuzz_tokenizer::encode_decode(tok, text, ...); });
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/tokenizer/tokenizer.h"

namespace fuzz_tokenizer {

[[noreturn]] inline void fail(const char* target, const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s: %s\n", target, what, detail.c_str());
  std::abort();
}

// `use(*load())`, unless load() rejects the input with a ptft::UserError.
template <class Load, class Use>
void load_then_use(const char* target, Load&& load, Use&& use) {
  try {
    decltype(load()) tok;
    try {
      tok = load();
    } catch (const ptft::UserError&) {
      return;  // rejected: expected for most inputs
    }
    use(*tok);
  } catch (const std::exception& e) {
    fail(target, "unexpected exception", e.what());
  }
}

inline void encode_decode(const ptft::Tokenizer& tok, const std::string& text, const char* target) {
  std::vector<int32_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const ptft::UserError&) {
    return;  // not UTF-8
  }
  for (const int32_t id : ids)
    if (id < 0 || id >= tok.vocab_size()) fail(target, "id out of range", std::to_string(id));
  try {
    tok.decode(ids);
  } catch (const ptft::UserError& e) {
    fail(target, "decode of encode's ids failed", e.full());
  }
}

}  // namespace fuzz_tokenizer
