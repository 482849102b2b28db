// ptft/data/idx_array.h — IDX files (MNIST-style arrays) read without torch: the header parse
// and the size checks that ptft/data/idx.h's read_idx wraps into a tensor, and that the libFuzzer
// target fuzz_idx builds alone.
//
// The format: ptft/data/idx.h. Every check failure is a UserError naming the file: bad magic,
// another value type, zero sizes, sizes whose product passes 64 GiB (checked before multiplying:
// no overflow), a header or data shorter than declared (the data is read as it comes, never
// allocated from the header's claim), bytes after the data.
//
//   IdxArray a = read_idx_array("train-images-idx3-ubyte.gz");   // dims {60000, 28, 28}
//   a.data.size();                                               // 47040000 bytes, row-major
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ptft {

// The most data an IDX header may declare; larger sizes are a corrupt header.
constexpr int64_t kMaxIdxBytes = int64_t{1} << 36;  // 64 GiB

struct IdxHeader {
  std::vector<int64_t> dims;  // (D) sizes, each >= 1
  int64_t data_bytes = 0;     // their product, <= kMaxIdxBytes
};

struct IdxArray {
  std::vector<int64_t> dims;  // (D)
  std::string data;           // product(dims) bytes, row-major
};

// The size of the header whose first 4 bytes (the magic) are `magic`: 4 + 4 D bytes.
// UserError for fewer than 4 bytes, bad magic, a type other than 0x08, D outside 1..4.
std::size_t idx_header_size(std::string_view magic, const std::string& path);

// The header at the start of `bytes` (which may go on past it). UserError as idx_header_size,
// for a header cut short, a size 0 or sizes declaring more than kMaxIdxBytes.
IdxHeader parse_idx_header(std::string_view bytes, const std::string& path);

// The array in `path` (plain or gzip), checked against its header: UserError when the data is
// shorter than declared or followed by more bytes, or the gzip stream is damaged.
IdxArray read_idx_array(const std::string& path);

}  // namespace ptft
