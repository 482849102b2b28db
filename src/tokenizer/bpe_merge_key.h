// src/tokenizer/bpe_merge_key.h — keys of the open-addressing merge tables of the BPE encoders
// (Gpt2Bpe, tokenizer.json's BPE model): the pair (left id, right id) as one 64-bit key and its
// home slot. Private to src/tokenizer/.
//
//   std::size_t i = slot_of(pair_key(a, b), bits);   // then probe i+1, i+2, ... (mod 2^bits)
//   const Slot* s = find_slot(table, bits, pair_key(a, b));   // Slot: {uint64_t key; ...}
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ptft::bpe_merge_key {

// The key of a free slot (no pair of valid ids has it).
constexpr uint64_t kEmptyKey = ~uint64_t{0};

inline uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Fibonacci hashing into a table of 2^bits slots.
inline std::size_t slot_of(uint64_t key, int bits) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

// The slot holding `key` in a table of 2^bits slots (each with a .key, kEmptyKey when free),
// or nullptr.
template <class Slot>
const Slot* find_slot(const std::vector<Slot>& table, int bits, uint64_t key) {
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = slot_of(key, bits);; i = (i + 1) & mask) {
    const Slot& s = table[i];
    if (s.key == key) return &s;
    if (s.key == kEmptyKey) return nullptr;
  }
}

}  // namespace ptft::bpe_merge_key
