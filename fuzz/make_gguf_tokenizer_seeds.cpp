// make_gguf_tokenizer_seeds — writes the seed corpus of fuzz_gguf_tokenizer: tiny GGUF files
// (no tensors, each under 4 KiB: CTest replays with -max_len=4096) whose tokenizer.ggml.* keys
// describe a byte-level BPE (model gpt2: pre gpt-2, llama-bpe, qwen2, smollm) and a
// SentencePiece-style BPE with byte fallback (model llama).
//
//   build-fuzz/make_gguf_tokenizer_seeds tests/tokenizer/fuzz_corpus_gguf_tokenizer
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "ptft/io/gguf.h"

namespace gguf = ptft::gguf;

namespace {

// GPT-2's byte-to-character map for the printable ASCII bytes: each is itself, but the space,
// which is 'Ġ' (U+0120).
std::string byte_char(int b) { return b == ' ' ? "\xc4\xa0" : std::string(1, char(b)); }

gguf::Writer gpt2(const std::string& pre, bool add_bos) {
  std::vector<std::string> tokens;
  for (int b = ' '; b <= '~'; ++b) tokens.push_back(byte_char(b));
  const std::vector<std::string> merges = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "l l", "\xc4\xa0 w", "o r", "1 2"};
  for (const std::string& m : merges) tokens.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;  // control
  gguf::Writer w;
  w.set("general.architecture", pre == "gpt-2" ? "gpt2" : "llama");
  w.set("tokenizer.ggml.model", "gpt2");
  w.set("tokenizer.ggml.pre", pre);
  w.set("tokenizer.ggml.tokens", tokens);
  w.set("tokenizer.ggml.token_type", types);
  w.set("tokenizer.ggml.merges", merges);
  w.set("tokenizer.ggml.bos_token_id", uint32_t(tokens.size() - 1));
  w.set("tokenizer.ggml.eos_token_id", uint32_t(tokens.size() - 1));
  w.set("tokenizer.ggml.add_bos_token", add_bos);
  return w;
}

gguf::Writer llama(bool add_space_prefix, bool chat_template) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  std::vector<float> scores = {0, 0, 0};
  for (int b : {0x0A, 0x31, 0xC3, 0xA9, 0xF0, 0x9F, 0x99, 0x82}) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);  // byte
    scores.push_back(0);
  }
  // Pieces with scores: a higher score merges first (llama.cpp's SPM).
  const char* pieces[] = {"\xe2\x96\x81", "a", "b", "c", "h", "e", "l", "o", "w", "r", "d", ",",
                          "\xe2\x96\x81h", "he", "ll", "hell", "hello", "\xe2\x96\x81hello", "or", "wor", "\xe2\x96\x81w"};
  float score = -1;
  for (const char* p : pieces) {
    tokens.push_back(p);
    types.push_back(1);
    scores.push_back(score -= 1);
  }
  tokens.push_back("<pad>");
  types.push_back(5);  // unused
  scores.push_back(0);
  gguf::Writer w;
  w.set("general.architecture", "llama");
  w.set("tokenizer.ggml.model", "llama");
  w.set("tokenizer.ggml.pre", "default");
  w.set("tokenizer.ggml.tokens", tokens);
  w.set("tokenizer.ggml.token_type", types);
  w.set("tokenizer.ggml.scores", scores);
  w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
  w.set("tokenizer.ggml.eos_token_id", uint32_t{2});
  w.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
  w.set("tokenizer.ggml.add_bos_token", true);
  w.set("tokenizer.ggml.add_space_prefix", add_space_prefix);
  if (chat_template) w.set("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}");
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR (an existing directory)\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  try {
    gpt2("gpt-2", false).write(dir + "/gpt2_gpt2.gguf");
    gpt2("llama-bpe", true).write(dir + "/gpt2_llama_bpe.gguf");
    gpt2("qwen2", false).write(dir + "/gpt2_qwen2.gguf");
    gpt2("smollm", false).write(dir + "/gpt2_smollm.gguf");
    llama(true, true).write(dir + "/llama_spm.gguf");
    llama(false, false).write(dir + "/llama_spm_no_prefix.gguf");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_gguf_tokenizer_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
