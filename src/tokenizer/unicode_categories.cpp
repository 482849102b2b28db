#include "unicode_categories.h"

#include <algorithm>
#include <array>

namespace ptft::unicode {
namespace {

struct Range {
  uint32_t first;
  uint32_t last;  // inclusive
  CharClass cls;
};

// The short names that the generated table uses.
constexpr CharClass L = CharClass::kLetter;
constexpr CharClass N = CharClass::kNumber;
constexpr CharClass S = CharClass::kSpace;

constexpr Range kRanges[] = {
#include "unicode_tables.inc"
};

// ASCII is most of the text: one table lookup instead of a binary search.
constexpr std::array<CharClass, 128> make_ascii_table() {
  std::array<CharClass, 128> t{};
  for (const Range& r : kRanges) {
    for (uint32_t c = r.first; c <= r.last && c < 128; ++c) t[c] = r.cls;
  }
  return t;
}
constexpr std::array<CharClass, 128> kAscii = make_ascii_table();

}  // namespace

CharClass char_class(uint32_t cp) {
  if (cp < 128) return kAscii[cp];
  // The first range whose `last` is >= cp; cp is in it when `first` <= cp.
  const Range* end = kRanges + sizeof(kRanges) / sizeof(kRanges[0]);
  const Range* r =
      std::lower_bound(kRanges, end, cp, [](const Range& a, uint32_t c) { return a.last < c; });
  return (r != end && r->first <= cp) ? r->cls : CharClass::kOther;
}

int decode_utf8(const char* p, std::size_t n, uint32_t* cp) {
  const auto* s = reinterpret_cast<const unsigned char*>(p);
  const unsigned b0 = s[0];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int len;
  uint32_t c;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, c = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, c = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    return 0;  // continuation byte or 0xF8..0xFF
  }
  if (n < static_cast<std::size_t>(len)) return 0;
  for (int i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  uint32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const int len = decode_utf8(s.data() + i, s.size() - i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace ptft::unicode
