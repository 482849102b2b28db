#include "hf_added_tokens.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "hf_normalizer.h"

namespace ptft::hf {
namespace {

bool is_word_character(UChar32 c) {
  return c == '_' || u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0;
}

}  // namespace

AddedTokens AddedTokens::from_json(const Json& list, const JsonAt& at) {
  AddedTokens out;
  if (list.is_null()) return out;
  if (!list.is_array()) at.fail(list, "expected a list of added tokens", "write [{\"id\": ..., \"content\": ...}, ...]");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const JsonAt a = at[i];
    const Json& e = list[i];
    AddedToken t;
    t.content = a.string(e, "content");
    if (t.content.empty()) a["content"].fail(e["content"], "an added token cannot be empty", "remove the entry");
    const Json& id = a.required(e, "id");
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= INT32_MAX)
      a["id"].fail(id, "expected a token id (an integer >= 0)", "ids are non-negative integers");
    t.id = id.get<int32_t>();
    t.special = a.boolean_or(e, "special", false);
    t.lstrip = a.boolean_or(e, "lstrip", false);
    t.rstrip = a.boolean_or(e, "rstrip", false);
    t.single_word = a.boolean_or(e, "single_word", false);
    t.normalized = a.boolean_or(e, "normalized", !t.special);
    out.tokens_.push_back(std::move(t));
  }
  return out;
}

void AddedTokens::prepare(const Normalizer* normalizer) {
  raw_ = Trie();
  normalized_ = Trie();
  for (std::size_t k = 0; k < tokens_.size(); ++k) {
    const AddedToken& t = tokens_[k];
    if (!t.normalized) {
      raw_.add(t.content, static_cast<int32_t>(k));
      continue;
    }
    std::string s = t.content;
    if (normalizer) normalizer->normalize(&s);
    if (!s.empty()) normalized_.add(s, static_cast<int32_t>(k));
  }
}

void AddedTokens::Trie::add(const std::string& s, int32_t index) {
  int32_t node = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    int32_t child = -1;
    for (const auto& [b, n] : nodes_[node].next)
      if (b == c) child = n;
    if (child < 0) {
      child = static_cast<int32_t>(nodes_.size());
      nodes_[node].next.emplace_back(c, child);
      nodes_.emplace_back();
    }
    node = child;
  }
  // The same content twice: the first entry wins.
  if (nodes_[node].token < 0) nodes_[node].token = index;
}

int32_t AddedTokens::Trie::longest(std::string_view text, std::size_t i, std::size_t* len) const {
  int32_t node = 0, best = -1;
  for (std::size_t k = i; k < text.size(); ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    int32_t child = -1;
    for (const auto& [b, n] : nodes_[node].next)
      if (b == c) {
        child = n;
        break;
      }
    if (child < 0) break;
    node = child;
    if (nodes_[node].token >= 0) {
      best = nodes_[node].token;
      *len = k + 1 - i;
    }
  }
  return best;
}

bool AddedTokens::single_word_ok(std::string_view text, std::size_t begin, std::size_t end) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  UChar32 c;
  if (begin > 0) {
    auto i = static_cast<int32_t>(begin);
    U8_PREV(p, 0, i, c);
    if (is_word_character(c)) return false;
  }
  if (end < text.size()) {
    auto i = static_cast<int32_t>(end);
    U8_NEXT(p, i, static_cast<int32_t>(text.size()), c);
    if (is_word_character(c)) return false;
  }
  return true;
}

}  // namespace ptft::hf
