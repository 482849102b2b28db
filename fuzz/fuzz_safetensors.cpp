// fuzz_safetensors — libFuzzer target for ptft::safetensors::File.
//
// Any input must either parse or be rejected with a ptft::Error; every other exception, and
// every sanitizer report, is a crash. An input that parses is re-serialised and re-parsed, and
// both must agree on names, dtypes, shapes, bytes and metadata.
//
// Each input is tried twice: as is, and with its 8-byte length prefix recomputed so that the
// header ends at the last '}' (a mutation that grows or shrinks the JSON otherwise only ever
// reaches the "header length runs past the end" check).
//
//   build/fuzz/fuzz_safetensors -max_total_time=120 /tmp/st-corpus tests/io/fuzz_corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/io/safetensors.h"

namespace st = ptft::safetensors;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_safetensors: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check(std::string bytes) {
  std::shared_ptr<st::File> f;
  try {
    f = st::File::from_bytes(std::move(bytes), "fuzz");
  } catch (const ptft::Error&) {
    return;  // rejected: expected for most inputs
  }

  // Touch every byte of every tensor (ASan checks the bounds) and rebuild the tensor list.
  std::vector<st::TensorRef> refs;
  volatile uint64_t sum = 0;
  uint64_t total = 0;
  for (const auto& t : f->tensors()) {
    const uint8_t* p = f->data(t);
    for (uint64_t i = 0; i < t.nbytes(); ++i) sum = sum + p[i];
    total += t.nbytes();
    if (static_cast<uint64_t>(t.numel()) * st::dtype_size(t.dtype) != t.nbytes())
      fail("size mismatch accepted", t.name);
    refs.push_back({t.name, t.dtype, t.shape, p, static_cast<std::size_t>(t.nbytes())});
  }
  if (total != f->data_size()) fail("tensors do not tile the data", std::to_string(total));

  std::shared_ptr<st::File> g;
  try {
    g = st::File::from_bytes(st::serialize(refs, f->metadata()), "fuzz-reserialized");
  } catch (const ptft::Error& e) {
    fail("re-serialised file rejected", e.full());
  }
  if (g->tensors().size() != f->tensors().size())
    fail("tensor count differs", std::to_string(g->tensors().size()));
  if (g->metadata() != f->metadata()) fail("metadata differs", "");
  for (const auto& t : f->tensors()) {
    const st::TensorInfo* u = g->find(t.name);
    if (u == nullptr) fail("tensor lost", t.name);
    if (u->dtype != t.dtype || u->shape != t.shape || u->nbytes() != t.nbytes())
      fail("dtype/shape differs", t.name);
    if (t.nbytes() > 0 && std::memcmp(g->data(*u), f->data(t), t.nbytes()) != 0)
      fail("bytes differ", t.name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size > 8) {
    const std::size_t close = bytes.rfind('}');
    if (close != std::string::npos && close >= 8) {
      std::string fixed = bytes;
      uint64_t n = close + 1 - 8;
      for (int i = 0; i < 8; ++i, n >>= 8) fixed[i] = static_cast<char>(n & 0xFF);
      if (fixed != bytes) check(std::move(fixed));
    }
  }
  check(std::move(bytes));
  return 0;
}
