// fuzz_gguf_tokenizer — libFuzzer target for ptft::tokenizer_from_gguf (the tokenizer.ggml.*
// keys of a downloaded GGUF file: untrusted input), then encode and decode.
//
// The input is a whole GGUF file. Parsing and building the tokenizer must succeed or give a
// ptft::UserError; every other exception, every sanitizer report, a hang (-timeout) and runaway
// memory (-rss_limit_mb) are crashes. A tokenizer that is built encodes a fixed text (ids in
// [0, vocab_size)), decodes those ids without error, and decodes the first ids of its vocabulary.
// Seeds: fuzz/make_gguf_tokenizer_seeds.cpp.
//
//   build-fuzz/fuzz_gguf_tokenizer -max_total_time=120 /tmp/gt-corpus tests/tokenizer/fuzz_corpus_gguf_tokenizer
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/io/gguf.h"
#include "ptft/tokenizer/gguf_vocab.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_gguf_tokenizer: %s: %s\n", what, detail.c_str());
  std::abort();
}

const char kText[] = "Hello world, it's 2026!\n  <s> caf\xc3\xa9 \xf0\x9f\x99\x82 </s><|endoftext|>";

void use(const ptft::Tokenizer& tok) {
  const int32_t vocab = tok.vocab_size();
  const std::vector<int32_t> ids = tok.encode(kText);
  for (const int32_t id : ids)
    if (id < 0 || id >= vocab) fail("id out of range", std::to_string(id) + " of " + std::to_string(vocab));
  try {
    tok.decode(ids);
  } catch (const ptft::UserError& e) {
    fail("decode of encode's ids failed", e.full());
  }
  std::vector<int32_t> first;
  for (int32_t id = 0; id < vocab && id < 32; ++id) first.push_back(id);
  try {
    tok.decode(first);  // ids the vocabulary may lack (dropped unused tokens): UserError
  } catch (const ptft::UserError&) {
  }
  try {
    tok.eot_id();
  } catch (const ptft::UserError&) {
  }
  tok.special_tokens();
  tok.document_prefix();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    ptft::TokenizerPtr tok;
    try {
      const auto file = ptft::gguf::File::from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
      tok = ptft::tokenizer_from_gguf(*file);
    } catch (const ptft::UserError&) {
      return 0;  // rejected: expected for most inputs
    }
    if (tok) use(*tok);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
