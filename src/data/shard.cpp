#include "ptft/data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ptft/core/error.h"

namespace ptft::shard {
namespace {

constexpr std::size_t kBufferBytes = 1 << 20;
const char* const kRemakeHint = "the shard is damaged or not a ptft shard; re-create it with `ptft data prepare`";

void put_u32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void encode_header(unsigned char* h, Dtype dtype, uint64_t count) {
  std::memset(h, 0, kHeaderBytes);
  std::memcpy(h, kMagic, sizeof(kMagic));
  put_u32(h + 8, kVersion);
  put_u32(h + 12, static_cast<uint32_t>(dtype));
  put_u64(h + 16, count);
}

std::string printable(const unsigned char* p, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    }
  }
  return s;
}

}  // namespace

Dtype dtype_for_vocab(int64_t vocab_size) {
  return vocab_size <= 65536 ? Dtype::kUint16 : Dtype::kUint32;
}

std::string dtype_name(Dtype dtype) { return dtype == Dtype::kUint16 ? "uint16" : "uint32"; }

// --- Writer ---------------------------------------------------------------------------------

Writer::Writer(const std::string& path, Dtype dtype) : path_(path), dtype_(dtype), file_(path) {
  unsigned char h[kHeaderBytes];
  encode_header(h, dtype_, 0);  // placeholder; commit() writes the final count
  file_.write(h, sizeof(h));
  buf_.reserve(kBufferBytes);
}

void Writer::append(const int32_t* ids, std::size_t n) {
  const std::size_t width = dtype_bytes(dtype_);
  const uint32_t max_id = dtype_ == Dtype::kUint16 ? 0xffffu : 0x7fffffffu;
  for (std::size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || static_cast<uint32_t>(id) > max_id)
      throw InternalError("token id " + std::to_string(id) + " does not fit a " + dtype_name(dtype_) +
                          " shard ('" + path_ + "'): the tokenizer returned an id outside its vocabulary");
    if (buf_.size() + width > kBufferBytes) flush();
    const auto v = static_cast<uint32_t>(id);
    buf_.push_back(static_cast<unsigned char>(v));
    buf_.push_back(static_cast<unsigned char>(v >> 8));
    if (width == 4) {
      buf_.push_back(static_cast<unsigned char>(v >> 16));
      buf_.push_back(static_cast<unsigned char>(v >> 24));
    }
  }
  count_ += n;
}

void Writer::flush() {
  if (!buf_.empty()) file_.write(buf_.data(), buf_.size());
  buf_.clear();
}

void Writer::commit() {
  flush();
  // AtomicFile only appends; the count is known now, so patch the header of the temporary
  // in place before commit() fsyncs and renames it (same inode, same page cache).
  unsigned char h[kHeaderBytes];
  encode_header(h, dtype_, count_);
  const int fd = ::open(file_.temp_path().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw UserError("cannot reopen '" + file_.temp_path() + "' (writing '" + path_ + "'): " + std::strerror(err));
  }
  const ssize_t n = ::pwrite(fd, h, sizeof(h), 0);
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof(h)))
    throw UserError("writing the header of '" + path_ + "' failed: " + std::strerror(err),
                    "check the disk (full?) and run again");
  file_.commit();
}

// --- Reader ---------------------------------------------------------------------------------

std::unique_ptr<Reader> Reader::open(const std::string& path) {
  std::unique_ptr<Reader> r(new Reader());
  r->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw UserError("cannot open token shard '" + path + "': " + std::strerror(err),
                    err == ENOENT ? "check the path, or re-create the shard directory with `ptft data prepare`"
                                  : "check its permissions");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw UserError("cannot stat token shard '" + path + "': " + std::strerror(err));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes) {
    ::close(fd);
    throw UserError("token shard '" + path + "' is " + std::to_string(size) + " bytes, shorter than the " +
                        std::to_string(kHeaderBytes) + "-byte header",
                    kRemakeHint);
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED)
    throw UserError("cannot memory-map token shard '" + path + "' (" + std::to_string(size) +
                    " bytes): " + std::strerror(map_err));
  r->map_ = map;
  r->map_size_ = size;
  const auto* h = static_cast<const unsigned char*>(map);

  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0)
    throw UserError("'" + path + "' is not a ptft token shard: it starts with '" + printable(h, 8) +
                        "', expected magic 'PTFTTOK1'",
                    kRemakeHint);
  const uint32_t version = get_u32(h + 8);
  if (version != kVersion)
    throw UserError("token shard '" + path + "' has format version " + std::to_string(version) +
                        "; this ptft reads version " + std::to_string(kVersion),
                    "re-create it with this version's `ptft data prepare`");
  const uint32_t dtype = get_u32(h + 12);
  if (dtype != 2 && dtype != 4)
    throw UserError("token shard '" + path + "' has dtype " + std::to_string(dtype) +
                        " in its header; expected 2 (uint16) or 4 (uint32)",
                    kRemakeHint);
  const uint64_t count = get_u64(h + 16);
  // size == header + count * dtype, without overflowing for absurd counts.
  const uint64_t body = size - kHeaderBytes;
  if (body % dtype != 0 || body / dtype != count) {
    const bool overflow = count > (UINT64_MAX - kHeaderBytes) / dtype;
    throw UserError("token shard '" + path + "' is " + std::to_string(size) + " bytes, but its header says " +
                        std::to_string(count) + " tokens of " + std::to_string(dtype) + " bytes = " +
                        (overflow ? std::string("more than 2^64") : std::to_string(kHeaderBytes + count * dtype)) +
                        " bytes with the " + std::to_string(kHeaderBytes) + "-byte header",
                    body / dtype < count ? "the file is truncated (an interrupted copy?); re-create or re-copy it"
                                         : std::string(kRemakeHint));
  }
  r->dtype_ = static_cast<Dtype>(dtype);
  r->count_ = count;
  r->tokens_ = h + kHeaderBytes;
#ifdef MADV_RANDOM
  ::madvise(map, size, MADV_RANDOM);  // training reads random windows
#endif
  return r;
}

Reader::~Reader() {
  if (map_) ::munmap(map_, map_size_);
}

uint32_t Reader::at(uint64_t i) const {
  PTFT_CHECK(i < count_, "token " + std::to_string(i) + " of " + std::to_string(count_) + " in " + path_);
  if (dtype_ == Dtype::kUint16) {
    const unsigned char* p = tokens_ + 2 * i;
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8);
  }
  return get_u32(tokens_ + 4 * i);
}

void Reader::read(uint64_t begin, std::size_t n, int64_t* out) const {
  PTFT_CHECK(begin <= count_ && n <= count_ - begin,
             "tokens [" + std::to_string(begin) + ", +" + std::to_string(n) + ") of " + std::to_string(count_) +
                 " in " + path_);
  if (dtype_ == Dtype::kUint16) {
    const unsigned char* p = tokens_ + 2 * begin;
    for (std::size_t i = 0; i < n; ++i, p += 2)
      out[i] = static_cast<int64_t>(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8));
  } else {
    const unsigned char* p = tokens_ + 4 * begin;
    for (std::size_t i = 0; i < n; ++i, p += 4) out[i] = static_cast<int64_t>(get_u32(p));
  }
}

}  // namespace ptft::shard
