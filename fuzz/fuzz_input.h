// fuzz_input.h — what the file-based fuzz targets share: one input cut into parts at NUL bytes,
// and a scratch directory (made once per process) whose files each input rewrites.
//
//   std::vector<std::string> parts = fuzz_input::split(data, size, 3);  // always 3 parts
//   const std::string dir = fuzz_input::scratch_dir();                   // e.g. /tmp/ptft-fuzz-Ab12Cd
//   fuzz_input::write(dir, "vocab.txt", parts[0]);   // "" with remove = true: the file is absent
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ptft/core/temp_dir.h"

namespace fuzz_input {

// The input cut at its first n-1 NUL bytes: always n parts, missing ones empty. Text formats
// (JSON, vocab.txt, merges.txt) never need a raw NUL, so the cut is unambiguous.
inline std::vector<std::string> split(const uint8_t* data, size_t size, size_t n) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  size_t pos = 0;
  while (parts.size() + 1 < n && pos <= in.size()) {
    const size_t end = in.find('\0', pos);
    if (end == std::string::npos) break;
    parts.push_back(in.substr(pos, end - pos));
    pos = end + 1;
  }
  parts.push_back(pos < in.size() ? in.substr(pos) : std::string());
  parts.resize(n);
  return parts;
}

// A private directory for this process, removed at exit.
inline const std::string& scratch_dir() {
  static const ptft::TempDir dir("ptft-fuzz");
  return dir.path();
}

// Writes `bytes` to dir/name; with `absent_if_empty`, an empty part removes the file instead.
inline void write(const std::string& dir, const std::string& name, const std::string& bytes,
                  bool absent_if_empty = false) {
  const std::string path = dir + "/" + name;
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (absent_if_empty && bytes.empty()) return;
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_input: cannot write %s\n", path.c_str());
    std::abort();
  }
}

}  // namespace fuzz_input
