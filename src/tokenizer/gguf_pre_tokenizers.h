// gguf_pre_tokenizers.h (private to src/tokenizer) — the Split regexes of the byte-level
// pre-tokenizers llama.cpp names in tokenizer.ggml.pre, as tokenizer.json files spell them:
// written (gguf_vocab.cpp recognises them) and read back (gguf_vocab_read.cpp rebuilds them).
#pragma once

namespace ptft::gguf_pre {

// "llama-bpe": Llama-3's (numbers in runs of up to three digits).
inline constexpr const char* kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// "qwen2": Qwen2's and Qwen3's (every digit alone).
inline constexpr const char* kQwen2Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

}  // namespace ptft::gguf_pre
