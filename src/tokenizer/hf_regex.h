// src/tokenizer/hf_regex.h — the patterns of tokenizer.json ({"String": "..."} or {"Regex":
// "..."}) found in UTF-8 text. Regexes run on PCRE2 (UTF + UCP, JIT-compiled); each thread keeps
// its own match data and JIT stack, so one compiled pattern serves all threads. Private to
// src/tokenizer/.
//
// Hugging Face compiles these regexes with Oniguruma. PCRE2 reads the same syntax for what
// tokenizer.json files use (classes, \p{L}, (?i:...), look-ahead, {m,n}); \s and \S are rewritten
// to \p{White_Space} / \P{White_Space}, Oniguruma's (and Unicode's) whitespace: PCRE2's own \s
// also matches U+180E.
//
//   Pattern p = Pattern::from_json(j["pattern"], at["pattern"]);
//   p.for_each_match(text, [&](std::size_t begin, std::size_t end) { ... });  // non-empty, in order
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "hf_json.h"

struct pcre2_real_code_8;

namespace ptft::hf {

class Regex {
 public:
  // Compiles `pattern`; a PCRE2 error is a UserError naming `at`, PCRE2's message and the offset.
  Regex(const std::string& pattern, const JsonAt& at);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // The first non-empty match in text[from..]: true and [*begin, *end), or false. `text` must be
  // valid UTF-8 (not checked again here); look-ahead sees the end of `text`.
  bool find(std::string_view text, std::size_t from, std::size_t* begin, std::size_t* end) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;  // as tokenizer.json spells it
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
};

class Pattern {
 public:
  // {"String": "..."} (matched literally) or {"Regex": "..."}.
  static Pattern from_json(const Json& j, const JsonAt& at);
  static Pattern regex(const std::string& re, const JsonAt& at);
  static Pattern literal(const std::string& s);

  // Calls f(begin, end) for each non-empty, non-overlapping match, left to right.
  template <class F>
  void for_each_match(std::string_view text, F&& f) const {
    std::size_t at = 0, b = 0, e = 0;
    if (regex_) {
      while (at < text.size() && regex_->find(text, at, &b, &e)) {
        f(b, e);
        at = e;
      }
      return;
    }
    if (literal_.empty()) return;
    while ((b = text.find(literal_, at)) != std::string_view::npos) {
      f(b, b + literal_.size());
      at = b + literal_.size();
    }
  }

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace ptft::hf
