// fuzz_gguf — libFuzzer target for ptft::gguf::File and gguf::Writer.
//
// Any input must either parse or be rejected with a ptft::Error; every other exception, and
// every sanitizer report, is a crash. An input that parses has every accessor touched (every
// metadata value read as its own type, every tensor byte, F32/F16/BF16 data converted), is
// written again with gguf::Writer and re-read: both must agree on metadata, tensors and bytes,
// and writing the re-read file gives the same bytes again.
//
//   build-fuzz/fuzz_gguf -max_total_time=120 /tmp/gguf-corpus tests/io/fuzz_corpus_gguf
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/io/gguf.h"

namespace gguf = ptft::gguf;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_gguf: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Reads `v` through the accessor of its own type; a UserError there is a bug.
void touch(const gguf::Value& v) {
  volatile uint64_t sink = v.type_name().size();
  try {
    switch (v.type()) {
      case gguf::ValueType::STRING: sink = sink + v.get_string().size(); break;
      case gguf::ValueType::ARRAY:
        if (v.array_type() == gguf::ValueType::STRING) {
          for (const auto& s : v.get_strings()) sink = sink + s.size();
        } else if (v.array_type() == gguf::ValueType::FLOAT64) {
          sink = sink + v.get_array<double>().size();
        } else if (v.array_type() == gguf::ValueType::BOOL) {
          sink = sink + v.get_array<bool>().size();
        }
        if (v.array_size() != (v.array_type() == gguf::ValueType::STRING ? v.strings().size()
                                                                        : v.raw().size() / gguf::value_type_size(v.array_type())))
          fail("array size differs from its elements", v.type_name());
        break;
      case gguf::ValueType::UINT32: sink = sink + v.get<uint32_t>() + v.get_unsigned(); break;
      case gguf::ValueType::FLOAT32: sink = sink + static_cast<uint64_t>(v.get<float>() != 0); break;
      case gguf::ValueType::BOOL: sink = sink + v.get<bool>(); break;
      case gguf::ValueType::INT64: sink = sink + static_cast<uint64_t>(v.get<int64_t>()); break;
      default: sink = sink + v.raw().size(); break;
    }
  } catch (const ptft::Error& e) {
    fail("accessor of a value's own type threw", e.full());
  }
}

// The file written again: same metadata (in order) and the same tensors.
gguf::Writer rewrite(const gguf::File& f) {
  gguf::Writer w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.shape, f.data(t), t.nbytes);
  return w;
}

void compare(const gguf::File& f, const gguf::File& g) {
  if (g.metadata() != f.metadata()) fail("metadata differs after rewriting", "");
  if (g.tensors().size() != f.tensors().size()) fail("tensor count differs", "");
  for (std::size_t i = 0; i < f.tensors().size(); ++i) {
    const auto &a = f.tensors()[i], &b = g.tensors()[i];
    if (a.name != b.name || a.type != b.type || a.shape != b.shape || a.nbytes != b.nbytes || a.offset != b.offset)
      fail("tensor info differs", a.name);
    if (a.nbytes > 0 && std::memcmp(f.data(a), g.data(b), a.nbytes) != 0) fail("bytes differ", a.name);
  }
}

void check(std::string bytes) {
  std::shared_ptr<gguf::File> f;
  try {
    f = gguf::File::from_bytes(std::move(bytes), "fuzz");
  } catch (const ptft::Error&) {
    return;  // rejected: expected for most inputs
  }
  for (const auto& [k, v] : f->metadata()) {
    if (f->find(k) != &v) fail("find disagrees with metadata()", k);
    touch(v);
  }
  volatile uint64_t sum = 0;
  for (const auto& t : f->tensors()) {
    if (f->find_tensor(t.name) != &t) fail("find_tensor disagrees with tensors()", t.name);
    const uint8_t* p = f->data(t);
    for (uint64_t i = 0; i < t.nbytes; ++i) sum = sum + p[i];  // ASan checks the bounds
    try {
      const std::vector<float> x = f->to_float(t);
      if (x.size() != static_cast<std::size_t>(t.numel())) fail("to_float size", t.name);
    } catch (const ptft::UserError&) {
      if (t.type == gguf::GgmlType::F32 || t.type == gguf::GgmlType::F16 || t.type == gguf::GgmlType::BF16)
        fail("to_float refused a float tensor", t.name);
    }
  }
  std::string once;
  try {
    once = rewrite(*f).to_bytes();
  } catch (const ptft::Error& e) {
    fail("the writer refused what the reader accepted", e.full());
  }
  std::shared_ptr<gguf::File> g;
  try {
    g = gguf::File::from_bytes(once, "fuzz-rewritten");
  } catch (const ptft::Error& e) {
    fail("rewritten file rejected", e.full());
  }
  compare(*f, *g);
  if (rewrite(*g).to_bytes() != once) fail("writing twice gives other bytes", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
