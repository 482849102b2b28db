// unicode_categories.h — UTF-8 decoding and the three code point classes of GPT-2's
// pre-tokenizer regex (\p{L}, \p{N}, \s), without a regex library or ICU.
//
// The class tables are generated from the JavaScript engine's own regex classes
// (scripts/gen-unicode-tables.js -> unicode_tables.inc), so that the pre-tokenizer splits text
// exactly as the JS reference encoder does.
//
//   uint32_t cp; int n = decode_utf8(p, end - p, &cp);   // 0: p[0] starts no valid sequence
//   if (n > 0 && char_class(cp) == CharClass::kLetter) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ptft::unicode {

enum class CharClass : uint8_t {
  kOther = 0,   // [^\s\p{L}\p{N}]
  kLetter = 1,  // \p{L}: Lu Ll Lt Lm Lo
  kNumber = 2,  // \p{N}: Nd Nl No
  kSpace = 3,   // JS \s: White_Space + line terminators + U+FEFF
};

// Class of a code point (any value; those above U+10FFFF are kOther).
CharClass char_class(uint32_t cp);

// Decodes one strict UTF-8 sequence at p[0..n): returns its length (1-4) and sets *cp, or
// returns 0 when p[0] does not start a valid sequence (stray continuation byte, overlong form,
// surrogate, above U+10FFFF, truncated). n must be >= 1.
int decode_utf8(const char* p, std::size_t n, uint32_t* cp);

// Appends the UTF-8 encoding of cp (<= U+10FFFF, not a surrogate).
void append_utf8(uint32_t cp, std::string* out);

// Whether all of `s` is strict UTF-8.
bool is_valid_utf8(std::string_view s);

}  // namespace ptft::unicode
