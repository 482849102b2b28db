// src/io/gguf_cursor.h — bounds-checked little-endian reads over a GGUF file's bytes, and the
// helpers that make messages about untrusted names safe to print. Private to src/io/gguf_*.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "ptft/core/error.h"

// X(T) for each C++ type of a fixed-size GGUF value type: for explicit instantiations.
#define PTFT_GGUF_FOR_EACH_FIXED_TYPE(X) \
  X(uint8_t) X(int8_t) X(uint16_t) X(int16_t) X(uint32_t) X(int32_t) X(float) X(bool) X(uint64_t) X(int64_t) X(double)

namespace ptft::gguf::detail {

inline const char* const kHintTruncated =
    "the file is truncated or not a GGUF file; download or export it again";
inline const char* const kHintCorrupt =
    "the file is corrupt or was written by a non-conforming tool; export it again "
    "(llama.cpp's convert_hf_to_gguf.py, or ptft)";

// A name from the file for a message: at most 80 bytes, non-printable bytes as \xNN, quoted.
inline std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < 80; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 80) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out + "'";
}

// `value` rounded up to a multiple of `alignment` (a power of two); false on overflow.
inline bool align_up(uint64_t value, uint64_t alignment, uint64_t* out) {
  const uint64_t rem = value % alignment;
  if (rem == 0) {
    *out = value;
    return true;
  }
  if (value > UINT64_MAX - (alignment - rem)) return false;
  *out = value + (alignment - rem);
  return true;
}

class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t size, std::string where)
      : base_(base), size_(size), where_(std::move(where)) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  // A UserError "<file>: at offset <at>: <what>".
  UserError error(uint64_t at, const std::string& what, const char* hint = kHintCorrupt) const {
    return UserError(where_ + ": at offset " + std::to_string(at) + ": " + what, hint);
  }

  // Copies the next n bytes; `what` names them in the truncation message.
  std::string bytes(uint64_t n, const std::string& what) {
    need(n, what);
    std::string out(reinterpret_cast<const char*>(base_ + pos_), n);
    pos_ += n;
    return out;
  }

  template <class T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof v);  // the host is little endian (gguf_value.cpp)
    pos_ += sizeof v;
    return v;
  }

  // A GGUF string (u64 length + bytes) of at most `max` bytes.
  std::string string(uint64_t max, const std::string& what) {
    const uint64_t at = pos_;
    const uint64_t n = read<uint64_t>("the length of " + what);
    if (n > max)
      throw error(at, what + " is " + std::to_string(n) + " bytes long; the limit is " + std::to_string(max),
                  kHintCorrupt);
    return bytes(n, what);
  }

 private:
  void need(uint64_t n, const std::string& what) const {
    if (n > size_ - pos_)
      throw error(pos_, "file ends inside " + what + " (needs " + std::to_string(n) + " bytes, " +
                            std::to_string(size_ - pos_) + " left of " + std::to_string(size_) + ")",
                  kHintTruncated);
  }

  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string where_;
};

}  // namespace ptft::gguf::detail
