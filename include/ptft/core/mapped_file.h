// ptft/core/mapped_file.h — a whole file mapped into memory for reading, without copying it.
//
// Mapped writable but private (copy-on-write): a stray write through the pointer changes the
// process's copy, never the file; MAP_NORESERVE so that a large file reserves no swap. Pages
// are read from disk when first touched.
//
//   fs::MappedFile m("model.gguf", "GGUF file");   // UserError "cannot open GGUF file '...': ..."
//   parse(m.data(), m.size());
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ptft::fs {

class MappedFile {
 public:
  // `kind` names the file in messages ("safetensors file"). UserError if `path` cannot be
  // opened, is not a regular file or cannot be mapped. An empty file maps to data() == nullptr.
  MappedFile(const std::string& path, const std::string& kind);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(map_); }
  uint64_t size() const { return size_; }

  // Once bytes [p, p + n) have been copied elsewhere: if they lie inside a live MappedFile, the
  // whole pages among them leave this process's memory (madvise MADV_DONTNEED; they stay in the
  // page cache and are read from the file again if touched), so that loading a model does not hold
  // the file and its copy at once. A write made through the mapping to those pages is undone.
  // Returns the bytes released (0 for memory that is not a mapped file's).
  static uint64_t release_copied(const void* p, uint64_t n);

 private:
  void* map_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace ptft::fs
