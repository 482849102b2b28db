// gpt2_pretokenizer.h — GPT-2's pre-tokenizer regex, by hand:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Splits UTF-8 text into the pieces that BPE then encodes one by one. Same matches as the
// regex under JavaScript's /u semantics (classes from unicode_categories.h). Bytes that are not
// valid UTF-8 do not occur in the regex's world: each one becomes a piece of its own, and
// counts as \S for the lookahead (where the JS encoder would see U+FFFD).
//
//   std::vector<Gpt2Piece> pieces;
//   for (std::size_t at = 0; at < text.size();)
//     at = gpt2_pretokenize(text, at, 4096, &pieces);   // "Hello  world": "Hello", " ", " world"
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace ptft {

struct Gpt2Piece {
  std::size_t begin;  // byte offset into the text
  std::size_t size;   // bytes, >= 1
};

// Replaces *pieces with the next pieces of `text` from byte offset `from` (a piece boundary:
// 0 or a value this function returned), at most `max_pieces` of them, in order; returns where
// they end (text.size() when done). The pieces of all calls tile the text, exactly as one
// regex scan over all of it would (the regex only looks ahead, never behind).
std::size_t gpt2_pretokenize(std::string_view text, std::size_t from, std::size_t max_pieces,
                             std::vector<Gpt2Piece>* pieces);

}  // namespace ptft
