#include "gpt2_pretokenizer.h"

#include "unicode_categories.h"

namespace ptft {
namespace {

using unicode::CharClass;

// Classes as the matcher sees them: the regex's three plus "not UTF-8".
enum class Cls : uint8_t { kOther, kLetter, kNumber, kSpace, kInvalid };

struct Char {
  Cls cls;
  uint32_t cp;   // meaningful unless kInvalid
  uint32_t len;  // bytes
};

class Cursor {
 public:
  explicit Cursor(std::string_view text) : p_(text.data()), n_(text.size()) {}
  std::size_t size() const { return n_; }
  // The character at byte offset i < size().
  Char at(std::size_t i) const {
    const auto b = static_cast<unsigned char>(p_[i]);
    if (b < 0x80) return {cls_of(unicode::char_class(b)), b, 1};
    uint32_t cp = 0;
    const int len = unicode::decode_utf8(p_ + i, n_ - i, &cp);
    if (len == 0) return {Cls::kInvalid, 0, 1};
    return {cls_of(unicode::char_class(cp)), cp, static_cast<uint32_t>(len)};
  }
  // End of the run of class `cls` that starts at i (i itself may be outside the run).
  std::size_t run_end(std::size_t i, Cls cls) const {
    while (i < n_) {
      const Char c = at(i);
      if (c.cls != cls) break;
      i += c.len;
    }
    return i;
  }
  bool starts_with(std::size_t i, const char* s, std::size_t len) const {
    return i + len <= n_ && std::string_view(p_ + i, len) == std::string_view(s, len);
  }

 private:
  static Cls cls_of(CharClass c) { return static_cast<Cls>(c); }
  const char* p_;
  std::size_t n_;
};

// Length of a contraction ('s 't 're 've 'm 'll 'd, lowercase only) at i, or 0.
std::size_t contraction_at(const Cursor& t, std::size_t i) {
  for (const char* c : {"'s", "'t", "'m", "'d"})
    if (t.starts_with(i, c, 2)) return 2;
  for (const char* c : {"'re", "'ve", "'ll"})
    if (t.starts_with(i, c, 3)) return 3;
  return 0;
}

}  // namespace

std::size_t gpt2_pretokenize(std::string_view text, std::size_t from, std::size_t max_pieces,
                             std::vector<Gpt2Piece>* pieces) {
  pieces->clear();
  const Cursor t(text);
  const std::size_t n = t.size();
  std::size_t i = from;
  auto emit = [&](std::size_t end) {
    pieces->push_back({i, end - i});
    i = end;
  };
  while (i < n && pieces->size() < max_pieces) {
    const Char c = t.at(i);
    // 's|'t|'re|'ve|'m|'ll|'d
    if (c.cp == '\'' && c.cls != Cls::kInvalid) {
      if (std::size_t len = contraction_at(t, i)) {
        emit(i + len);
        continue;
      }
    }
    switch (c.cls) {
      case Cls::kInvalid:
        emit(i + 1);
        break;
      case Cls::kLetter:  // \p{L}+
      case Cls::kNumber:  // \p{N}+
      case Cls::kOther:   // [^\s\p{L}\p{N}]+
        emit(t.run_end(i, c.cls));
        break;
      case Cls::kSpace: {
        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": a space that leads a run.
        if (c.cp == ' ' && i + 1 < n) {
          const Char next = t.at(i + 1);
          if (next.cls == Cls::kLetter || next.cls == Cls::kNumber || next.cls == Cls::kOther) {
            emit(t.run_end(i + 1, next.cls));
            break;
          }
        }
        // \s+(?!\S): the whole run at the end of the text, else the run less its last
        // character (which then leads the next piece); \s+: a single space before \S.
        std::size_t last = i;  // start of the run's last character
        std::size_t j = i;
        while (j < n) {
          const Char s = t.at(j);
          if (s.cls != Cls::kSpace) break;
          last = j;
          j += s.len;
        }
        emit((j == n || last == i) ? j : last);
        break;
      }
    }
  }
  return i;
}

}  // namespace ptft
