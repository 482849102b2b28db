// gpt2_files.h — GPT-2's two vocabulary files, read with errors that point at the line.
//
//   vocab.json  (OpenAI: encoder.json)  {"!": 0, "\"": 1, ..., "<|endoftext|>": 50256}
//   merges.txt  (OpenAI: vocab.bpe)     "#version: 0.2" then one merge "a b" per line, by rank
//
// Errors are UserError "<path>:<line>:<column>: <what>" (vocab) or "<path>:<line>: <what>"
// (merges), with a hint. The vocab parser is a small hand-written JSON reader because the
// generic one cannot say where a bad value is (encoder.json is one 1 MB line).
//
//   auto vocab = parse_vocab_json(fs::read_file(path), path);
//   auto merges = parse_merges_txt(fs::read_file(path2), path2);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ptft::gpt2_files {

struct VocabEntry {
  std::string token;  // UTF-8, JSON escapes resolved
  int32_t id;
};

// The entries of a JSON object of string -> non-negative integer, in file order. Rejects any
// other JSON, duplicate tokens and duplicate ids.
std::vector<VocabEntry> parse_vocab_json(std::string_view text, const std::string& path);

struct MergeLine {
  std::string left;
  std::string right;
  int line;  // 1-based, for later errors (unknown tokens)
};

// The merges in rank order. Skips "#version" lines and a final empty line; every other line
// must be two tokens separated by spaces ("a b").
std::vector<MergeLine> parse_merges_txt(std::string_view text, const std::string& path);

// `s` as a JSON string literal: quotes, \" \\ and control characters escaped, UTF-8 kept.
// Also how tokens are shown in messages.
std::string json_quote(std::string_view s);

}  // namespace ptft::gpt2_files
