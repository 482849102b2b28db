// fuzz_idx — libFuzzer target for ptft::read_idx_array (MNIST-style IDX files: downloaded,
// untrusted, plain or gzip) and ptft::parse_idx_header.
//
// Input: the bytes of one IDX file (a gzip stream is decompressed, as read_idx does). Reading
// must give an array whose data is exactly the product of its dims, or a ptft::UserError; every
// other exception, every sanitizer report (a signed overflow of the dims' product included), a
// hang (-timeout) and runaway memory (-rss_limit_mb: a header that declares gigabytes must not
// allocate them) are crashes.
//
//   build-fuzz/fuzz_idx -max_total_time=600 /tmp/idx-corpus tests/data/fuzz_corpus_idx
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "fuzz_input.h"
#include "ptft/core/error.h"
#include "ptft/data/idx_array.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_idx: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The header parsed from the bytes themselves must agree with the file reader's array.
void check_array(const std::string& bytes, const ptft::IdxArray& a) {
  int64_t n = 1;
  for (const int64_t d : a.dims) n *= d;
  if (static_cast<int64_t>(a.data.size()) != n) fail("data size", std::to_string(a.data.size()));
  if (bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b') return;  // gzip: the header is inside
  const ptft::IdxHeader h = ptft::parse_idx_header(bytes, "fuzz-images-idx3-ubyte");
  if (h.dims != a.dims) fail("parse_idx_header and read_idx_array disagree", std::to_string(h.dims.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string& dir = fuzz_input::scratch_dir();
  fuzz_input::write(dir, "fuzz-images-idx3-ubyte", bytes);
  try {
    try {
      check_array(bytes, ptft::read_idx_array(dir + "/fuzz-images-idx3-ubyte"));
    } catch (const ptft::UserError&) {
      return 0;  // rejected: expected for most inputs
    }
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
