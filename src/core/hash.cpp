#include "ptft/core/hash.h"

namespace ptft {

uint64_t fnv1a64(std::string_view bytes, uint64_t state) {
  for (const char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= kFnv1a64Prime;
  }
  return state;
}

std::string hex64(uint64_t v) {
  static const char* const kHex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 15];
  return out;
}

std::string fnv1a64_hex(std::string_view bytes) { return hex64(fnv1a64(bytes)); }

}  // namespace ptft
