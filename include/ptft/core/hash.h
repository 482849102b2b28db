// ptft/core/hash.h — FNV-1a 64: a stable, non-cryptographic fingerprint of bytes, for telling
// apart files that should be the same (a tokenizer's vocabulary recorded in data shards).
//
//   std::string h = fnv1a64_hex(bytes);                 // "cbf29ce484222325" for ""
//   uint64_t s = fnv1a64(part1); s = fnv1a64(part2, s);   // the same as fnv1a64(part1 + part2)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ptft {

constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnv1a64Prime = 0x100000001b3ULL;

// Continues the hash `state` over `bytes`; start from kFnv1a64Offset.
uint64_t fnv1a64(std::string_view bytes, uint64_t state = kFnv1a64Offset);
// 16 lowercase hex digits.
std::string hex64(uint64_t v);
std::string fnv1a64_hex(std::string_view bytes);

}  // namespace ptft
