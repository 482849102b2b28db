// bpe_piece_cache.h — piece bytes -> token ids, so that a word seen before costs one hash
// lookup instead of a BPE run. Not thread-safe: each thread owns its caches.
//
// Open addressing over one arena of keys and one of ids. The table starts small and doubles
// up to kMaxSlots (131072 pieces: a dictionary's worth of distinct words); when that or an
// arena is full it starts over, empty. About 6 MB when full of words, 10 MB at most.
//
//   PieceCache c;
//   uint64_t h = PieceCache::hash(piece);
//   if (const int32_t* ids = c.find(piece, h, &n)) ... else c.insert(piece, h, ids, n);
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ptft {

class PieceCache {
 public:
  // Longer pieces are not kept (rare, and they would crowd out the common ones).
  static constexpr std::size_t kMaxPieceBytes = 64;

  static uint64_t hash(std::string_view s) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
      h ^= h >> 32;
    }
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 29;
    return h;
  }

  // The ids of `piece` (hash `h`), or nullptr; *n = their count.
  const int32_t* find(std::string_view piece, uint64_t h, uint32_t* n) const {
    if (slots_.empty()) return nullptr;
    const uint32_t tag = tag_of(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.tag == 0) return nullptr;
      if (s.tag == tag && s.key_len == piece.size() &&
          std::memcmp(keys_.data() + s.key, piece.data(), piece.size()) == 0) {
        *n = s.ids_len;
        return ids_.data() + s.ids;
      }
    }
  }

  // `piece` must not be in the cache, and at most kMaxPieceBytes long.
  void insert(std::string_view piece, uint64_t h, const int32_t* ids, uint32_t n) {
    if (keys_.size() + piece.size() > kMaxKeyBytes || ids_.size() + n > kMaxIds) clear();
    if (2 * (entries_ + 1) > slots_.size()) {
      if (slots_.size() < kMaxSlots) {
        grow();
      } else {
        clear();
      }
    }
    place({tag_of(h), static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(ids_.size()),
           static_cast<uint16_t>(piece.size()), static_cast<uint16_t>(n)},
          h);
    keys_.append(piece.data(), piece.size());
    ids_.insert(ids_.end(), ids, ids + n);
    ++entries_;
  }

  // Appends the ids of `piece` (at most kMaxPieceBytes long) to *out: the cached ones, else
  // those encode(piece, out) appends, which are then cached.
  template <class Encode>
  void encode_through(std::string_view piece, std::vector<int32_t>* out, Encode&& encode) {
    const uint64_t h = hash(piece);
    uint32_t n = 0;
    if (const int32_t* ids = find(piece, h, &n)) {
      out->insert(out->end(), ids, ids + n);
      return;
    }
    const std::size_t before = out->size();
    encode(piece, out);
    insert(piece, h, out->data() + before, static_cast<uint32_t>(out->size() - before));
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    keys_.clear();
    ids_.clear();
    entries_ = 0;
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // high half of the hash, never 0 in a used slot
    uint32_t key = 0;  // offset into keys_
    uint32_t ids = 0;  // offset into ids_
    uint16_t key_len = 0;
    uint16_t ids_len = 0;
  };
  static constexpr std::size_t kMinSlots = std::size_t{1} << 12;
  static constexpr std::size_t kMaxSlots = std::size_t{1} << 18;  // load factor <= 1/2
  static constexpr std::size_t kMaxKeyBytes = std::size_t{2} << 20;
  static constexpr std::size_t kMaxIds = std::size_t{1} << 20;

  static uint32_t tag_of(uint64_t h) { return static_cast<uint32_t>(h >> 32) | 1; }

  void place(const Slot& s, uint64_t h) {
    std::size_t i = h & mask_;
    while (slots_[i].tag != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }

  // Doubles the table; slot positions come from the keys' hashes again.
  void grow() {
    const std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max(kMinSlots, 2 * old.size()), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.tag != 0) place(s, hash(std::string_view(keys_.data() + s.key, s.key_len)));
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::string keys_;
  std::vector<int32_t> ids_;
  std::size_t entries_ = 0;
};

// The piece caches of one thread for the last few tokenizer instances it used, told apart by a
// serial number (never by address, which a new instance may reuse).
//
//   thread_local PieceCaches caches;
//   PieceCache& cache = caches.cache_for(serial_);
class PieceCaches {
 public:
  PieceCache& cache_for(uint64_t serial) {
    for (int i = 0; i < kCaches; ++i)
      if (serials_[i] == serial) return *caches_[i];
    const int i = victim_;
    victim_ = (victim_ + 1) % kCaches;
    if (!caches_[i]) caches_[i] = std::make_unique<PieceCache>();
    caches_[i]->clear();
    serials_[i] = serial;
    return *caches_[i];
  }

 private:
  static constexpr int kCaches = 4;
  uint64_t serials_[kCaches] = {};
  std::unique_ptr<PieceCache> caches_[kCaches];
  int victim_ = 0;
};

}  // namespace ptft
