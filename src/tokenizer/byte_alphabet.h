// src/tokenizer/byte_alphabet.h — GPT-2's bytes_to_unicode(): how byte-level BPE vocabularies
// (GPT-2's vocab.json, the ByteLevel pre-tokenizer of tokenizer.json) spell each byte, as one
// code point. Private to src/tokenizer/.
//
// The printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the n-th other byte
// (space, control characters, ...) is U+0100 + n, so that no token holds whitespace.
//
//   const auto& cps = byte_code_points();   // cps[' '] == 0x120 ('Ġ')
#pragma once

#include <array>
#include <cstdint>

namespace ptft {

inline std::array<uint32_t, 256> byte_code_points() {
  std::array<uint32_t, 256> cp{};
  uint32_t n = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    cp[b] = printable ? b : 256 + n++;
  }
  return cp;
}

// The inverse: code point -> byte, -1 for code points outside the alphabet (all >= 324 are).
inline std::array<int, 324> byte_of_code_points() {
  std::array<int, 324> byte_of;
  byte_of.fill(-1);
  const auto cps = byte_code_points();
  for (int b = 0; b < 256; ++b) byte_of[cps[b]] = b;
  return byte_of;
}

}  // namespace ptft
