// tests/infer/tiny_lm.h — what the inference tests share: a real SentencePiece tokenizer
// (BPE, 400 pieces, byte fallback: characters outside the vocabulary become byte pieces, so
// multi-byte characters span several tokens), trained once per process on the GPL, and a small
// randomly initialised GPT-2 with a fixed seed.
//
//   TokenizerPtr tok = test::tiny_tokenizer();
//   auto gpt = test::tiny_gpt(tok->vocab_size(), /*context=*/32);
#pragma once

#include <memory>
#include <string>

#include "../common/temp_dir.h"
#include "ptft/models/gpt.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft::test {

inline TokenizerPtr tiny_tokenizer() {
  static TempDir dir("infer_tokenizer");  // lives until the process exits
  static TokenizerPtr tok = [] {
    SpmTrainOptions o;
    o.inputs = {"/usr/share/common-licenses/GPL-3"};
    o.out_dir = dir.path + "/tok";
    o.vocab_size = 400;
    o.num_threads = 1;
    train_sentencepiece(o);
    return load_tokenizer(o.out_dir);
  }();
  return tok;
}

inline std::shared_ptr<GptImpl> tiny_gpt(int64_t vocab_size, int64_t context, uint64_t seed = 7) {
  torch::manual_seed(seed);
  GptConfig c;
  c.vocab_size = vocab_size;
  c.n_positions = context;
  c.n_embd = 32;
  c.n_layer = 2;
  c.n_head = 4;
  auto m = std::make_shared<GptImpl>(c);
  m->eval();
  return m;
}

}  // namespace ptft::test
