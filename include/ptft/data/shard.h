// ptft/data/shard.h — token shards: the binary files `ptft data prepare` writes and the
// language-model loaders memory-map. Torch-free.
//
// Layout (all integers little-endian):
//   offset  0  char[8]  magic "PTFTTOK1"
//   offset  8  u32      version (1)
//   offset 12  u32      dtype: bytes per token, 2 = uint16, 4 = uint32
//   offset 16  u64      count of tokens
//   offset 24  u8[8]    zero padding (the header is 32 bytes)
//   offset 32  count tokens of `dtype` bytes each
// A file whose size is not exactly 32 + count * dtype is damaged (truncated or appended to).
//
//   shard::Writer w("out/train-00000.bin", shard::dtype_for_vocab(tok->vocab_size()));
//   w.append(ids.data(), ids.size());
//   w.commit();                                    // atomic: the file appears complete or not at all
//   auto r = shard::Reader::open("out/train-00000.bin");
//   std::vector<int64_t> window(257);
//   r->read(1000, window.size(), window.data());   // tokens [1000, 1257)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptft/core/fs.h"

namespace ptft::shard {

inline constexpr char kMagic[8] = {'P', 'T', 'F', 'T', 'T', 'O', 'K', '1'};
inline constexpr uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 32;

// Bytes per token; the enum value is what the header stores.
enum class Dtype : uint32_t { kUint16 = 2, kUint32 = 4 };

// uint16 when every id of a vocabulary of `vocab_size` fits (vocab_size <= 65536), else uint32.
Dtype dtype_for_vocab(int64_t vocab_size);
std::string dtype_name(Dtype dtype);  // "uint16" | "uint32"
inline std::size_t dtype_bytes(Dtype dtype) { return static_cast<std::size_t>(dtype); }

// Streams tokens into a new shard. The header is written with the final count by commit(),
// which then renames the file into place (fs::AtomicFile); destroying an uncommitted writer
// leaves no file behind.
class Writer {
 public:
  Writer(const std::string& path, Dtype dtype);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  // Ids outside the dtype's range (negative, or > 65535 for uint16) are an InternalError: the
  // tokenizer produced an id its own vocab_size does not allow.
  void append(const int32_t* ids, std::size_t n);
  void append(const std::vector<int32_t>& ids) { append(ids.data(), ids.size()); }
  void commit();
  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  void flush();
  std::string path_;
  Dtype dtype_;
  fs::AtomicFile file_;
  std::vector<unsigned char> buf_;
  uint64_t count_ = 0;
};

// A read-only memory mapping of a shard, validated on open. Thread-safe (nothing mutable).
class Reader {
 public:
  // UserError naming the file and the numbers when it is not a valid shard: too short for the
  // header, wrong magic, unknown version or dtype, size != 32 + count * dtype.
  static std::unique_ptr<Reader> open(const std::string& path);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::string& path() const { return path_; }
  Dtype dtype() const { return dtype_; }
  uint64_t count() const { return count_; }
  // Token `i` (< count()).
  uint32_t at(uint64_t i) const;
  // Tokens [begin, begin + n) widened to int64 into `out`; the range must lie inside the shard.
  void read(uint64_t begin, std::size_t n, int64_t* out) const;

 private:
  Reader() = default;
  std::string path_;
  Dtype dtype_ = Dtype::kUint16;
  uint64_t count_ = 0;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  const unsigned char* tokens_ = nullptr;
};

}  // namespace ptft::shard
