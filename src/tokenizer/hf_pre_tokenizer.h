// src/tokenizer/hf_pre_tokenizer.h — the "pre_tokenizer" of tokenizer.json: splits normalised
// text into pieces that the model encodes one by one (regex Split, ByteLevel, Metaspace, Digits,
// whitespace and punctuation splits, sequences). Private to src/tokenizer/.
//
// Pieces are spans of one buffer: splitting makes spans, rewriting (ByteLevel's byte alphabet,
// Metaspace's "▁") makes a new buffer. A ByteLevel that comes last leaves the bytes as they are
// and says so (*byte_level): the BPE model then reads each byte as its alphabet letter, which
// spares the rewrite.
//
//   bool byte_level = false;
//   auto pre = make_pre_tokenizer(j["pre_tokenizer"], at["pre_tokenizer"], &byte_level);
//   Pieces p; p.reset("Hello world", /*at_start=*/true); pre->apply(&p);  // "Hello", " world"
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hf_json.h"

namespace ptft::hf {

struct Piece {
  uint32_t begin;  // byte offset into Pieces::text
  uint32_t size;   // > 0
  bool at_start;   // begins at the start of the text being encoded (Metaspace "first")
};

struct Pieces {
  std::string text;
  std::vector<Piece> list;

  void reset(std::string_view s, bool at_start) {
    text.assign(s.data(), s.size());
    list.clear();
    if (!s.empty()) list.push_back({0, static_cast<uint32_t>(s.size()), at_start});
  }
  std::string_view view(const Piece& p) const { return std::string_view(text).substr(p.begin, p.size); }
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void apply(Pieces* pieces) const = 0;
};

// Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit, Punctuation,
// CharDelimiterSplit, Sequence; null gives nullptr. Any other type is a UserError naming it.
// *byte_level is set when the last step is a ByteLevel left to the model (see above).
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j, const JsonAt& at, bool* byte_level);

// The 256 byte-alphabet letters in UTF-8 ("Ġ" for ' '), and the bytes spelled by a string of
// them (false when `s` holds other characters).
const std::vector<std::string>& byte_alphabet_utf8();
bool bytes_of_alphabet(std::string_view s, std::string* bytes);

}  // namespace ptft::hf
