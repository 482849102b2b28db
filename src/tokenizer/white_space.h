// src/tokenizer/white_space.h — runs of whitespace in UTF-8 text, whitespace being Unicode's
// White_Space property (Rust's char::is_whitespace, which Hugging Face tokenizers uses for
// Strip and for the lstrip / rstrip of added tokens). Private to src/tokenizer/.
//
//   white_space_end(" \t a", 0) == 3;  white_space_begin("a \u3000", 5) == 1
#pragma once

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ptft {

// The end of the whitespace run that starts at `at` (`at` itself when there is none).
inline std::size_t white_space_end(std::string_view text, std::size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto n = static_cast<int32_t>(text.size());
  auto i = static_cast<int32_t>(at);
  while (i < n) {
    int32_t j = i;
    UChar32 c;
    U8_NEXT(p, j, n, c);
    if (!u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)) break;
    i = j;
  }
  return static_cast<std::size_t>(i);
}

// The start of the whitespace run that ends at `at`, not before `floor`.
inline std::size_t white_space_begin(std::string_view text, std::size_t at, std::size_t floor = 0) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  auto i = static_cast<int32_t>(at);
  while (i > static_cast<int32_t>(floor)) {
    int32_t j = i;
    UChar32 c;
    U8_PREV(p, static_cast<int32_t>(floor), j, c);
    if (!u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)) break;
    i = j;
  }
  return static_cast<std::size_t>(i);
}

}  // namespace ptft
