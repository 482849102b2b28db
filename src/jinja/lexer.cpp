// jinja2's lexer with trim_blocks + lstrip_blocks; see lexer.h.
#include "lexer.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "../tokenizer/utf8_check.h"
#include "ptft/core/error.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

[[noreturn]] void syntax_error(const std::string& origin, int line, const std::string& what) {
  throw UserError(origin + ", line " + std::to_string(line) + ": template syntax error: " + what,
                  "the chat template is not valid Jinja (or uses syntax outside ptft's subset; docs/formats.md)");
}

// Python's \s at s[i] (Unicode whitespace): its byte length, or 0.
std::size_t space_at(const std::string& s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return py::is_space(c) ? 1 : 0;
  const std::size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (i + n > s.size()) return 0;
  const std::u32string cp = py::decode(std::string_view(s).substr(i, n));
  return cp.size() == 1 && py::is_space(cp[0]) ? n : 0;
}

std::size_t skip_spaces(const std::string& s, std::size_t i) {
  while (i < s.size()) {
    const std::size_t n = space_at(s, i);
    if (!n) break;
    i += n;
  }
  return i;
}

bool all_spaces(const std::string& s, std::size_t from) { return from < s.size() && skip_spaces(s, from) == s.size(); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's "unicode-escape" decoding of a string literal's body (what jinja2 applies).
std::string unescape(const std::string& body, const std::string& origin, int line) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out += body[i];
      continue;
    }
    const char c = body[++i];
    switch (c) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': case 'u': case 'U': {
        const std::size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (std::size_t k = 1; k <= digits; ++k) {
          const int h = i + k < body.size() ? hex_value(body[i + k]) : -1;
          if (h < 0)
            syntax_error(origin, line, std::string("truncated \\") + (c == 'x' ? "xXX" : c == 'u' ? "uXXXX" : "UXXXXXXXX") + " escape");
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) syntax_error(origin, line, "illegal Unicode character in a string escape");
        utf8::append(out, cp);
        i += digits;
        break;
      }
      case 'N': syntax_error(origin, line, "\\N{...} escapes are not supported");
      default:
        if (c >= '0' && c <= '7') {
          uint32_t cp = static_cast<uint32_t>(c - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
            cp = cp * 8 + static_cast<uint32_t>(body[++i] - '0');
          utf8::append(out, cp);
        } else {
          out += '\\';
          out += c;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const std::string& origin) : s_(std::move(source)), origin_(origin) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) {
      if (!lex_root()) break;
    }
    tokens_.push_back({TokenType::kEnd, "", line_at(s_.size())});
    return std::move(tokens_);
  }

 private:
  int line_at(std::size_t pos) {
    // Incremental count: positions only move forward.
    for (; counted_ < pos && counted_ < s_.size(); ++counted_) line_ += s_[counted_] == '\n';
    return line_;
  }

  // Text up to the next tag, with that tag's whitespace control; false at the end of source.
  // `text` before a tag, after its whitespace control: "-" strips trailing whitespace; else, for
  // a block or comment tag without "+", lstrip_blocks drops the spaces between the line's start
  // and the tag.
  std::string controlled(std::string text, char sign, bool lstrip_applies) const {
    if (sign == '-') return py::rstrip(text);
    if (sign != '+' && lstrip_applies) {
      const std::size_t nl = text.rfind('\n');
      const std::size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && all_spaces(text, l_pos)) text.resize(l_pos);
    }
    return text;
  }

  // `{%[-+]? word %}` at `at` (jinja2's raw / endraw tags): the position after it (with the
  // whitespace its end removes: "-%}" all, "%}" one newline where `trim` applies), or npos.
  std::size_t match_word_tag(std::size_t at, const char* word, bool allow_plus_end, bool trim, char* sign) const {
    if (s_.compare(at, 2, "{%") != 0) return std::string::npos;
    std::size_t p = at + 2;
    *sign = p < s_.size() && (s_[p] == '-' || s_[p] == '+') ? s_[p] : 0;
    if (*sign) ++p;
    p = skip_spaces(s_, p);
    const std::size_t n = std::strlen(word);
    if (s_.compare(p, n, word) != 0) return std::string::npos;
    p = skip_spaces(s_, p + n);
    if (allow_plus_end && s_.compare(p, 3, "+%}") == 0) return p + 3;
    if (s_.compare(p, 3, "-%}") == 0) return skip_spaces(s_, p + 3);
    if (s_.compare(p, 2, "%}") == 0) return p + 2 + (trim && p + 2 < s_.size() && s_[p + 2] == '\n' ? 1 : 0);
    return std::string::npos;
  }

  bool lex_root() {
    std::size_t tag = pos_;
    while (true) {
      tag = s_.find('{', tag);
      if (tag == std::string::npos || tag + 1 >= s_.size()) {
        emit_data(s_.substr(pos_), pos_);
        pos_ = s_.size();
        return false;
      }
      const char k = s_[tag + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++tag;
    }
    const char kind = s_[tag + 1];
    const char sign = tag + 2 < s_.size() && (s_[tag + 2] == '-' || s_[tag + 2] == '+') ? s_[tag + 2] : 0;
    emit_data(controlled(s_.substr(pos_, tag - pos_), sign, kind != '{'), pos_);
    const std::size_t open = tag;
    char raw_sign = 0;
    if (kind == '%') {
      const std::size_t after = match_word_tag(tag, "raw", false, false, &raw_sign);
      if (after != std::string::npos) {
        line_starting_ = s_[after - 1] == '\n';
        lex_raw(open, after);
        return true;
      }
    }
    pos_ = tag + 2 + (sign ? 1 : 0);
    line_starting_ = false;
    if (kind == '#') {
      lex_comment(open);
    } else {
      tokens_.push_back({kind == '{' ? TokenType::kVarBegin : TokenType::kBlockBegin, "", line_at(open)});
      lex_tag(kind == '%', open);
    }
    return true;
  }

  // {% raw %}...{% endraw %}: the text between, as data (with endraw's whitespace control).
  void lex_raw(std::size_t open, std::size_t body) {
    for (std::size_t p = s_.find("{%", body); p != std::string::npos; p = s_.find("{%", p + 1)) {
      char sign = 0;
      const std::size_t after = match_word_tag(p, "endraw", true, true, &sign);
      if (after == std::string::npos) continue;
      emit_data(controlled(s_.substr(body, p - body), sign, true), body);
      line_starting_ = s_[after - 1] == '\n';
      pos_ = after;
      return;
    }
    syntax_error(origin_, line_at(open), "missing end of raw directive (the '{% raw %}' opened here)");
  }

  void emit_data(const std::string& text, std::size_t at) {
    if (!text.empty()) tokens_.push_back({TokenType::kData, text, line_at(at)});
  }

  void lex_comment(std::size_t open) {
    const std::size_t p = s_.find("#}", pos_);
    if (p == std::string::npos) syntax_error(origin_, line_at(open), "missing end of comment tag (the '{#' opened here)");
    // "-#}" strips the whitespace after it; "#}" drops one newline (trim_blocks); "+#}" neither.
    const char sign = p > pos_ && (s_[p - 1] == '-' || s_[p - 1] == '+') ? s_[p - 1] : 0;
    std::size_t end = p + 2;
    if (sign == '-') end = skip_spaces(s_, end);
    else if (!sign && end < s_.size() && s_[end] == '\n') ++end;
    line_starting_ = s_[end - 1] == '\n';
    pos_ = end;
  }

  // Tokens of a {% %} or {{ }} tag up to and including its end.
  void lex_tag(bool block, std::size_t open) {
    std::vector<char> balance;
    while (true) {
      if (pos_ >= s_.size())
        syntax_error(origin_, line_at(open), std::string("unclosed '") + (block ? "{%" : "{{") + "' (no matching '" +
                                                 (block ? "%}" : "}}") + "')");
      if (balance.empty() && end_tag(block)) return;
      const std::size_t ws = skip_spaces(s_, pos_);
      if (ws != pos_) {
        line_starting_ = s_[ws - 1] == '\n';
        pos_ = ws;
        continue;
      }
      line_starting_ = false;
      const int line = line_at(pos_);
      const char c = s_[pos_];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        lex_number(line);
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        std::size_t e = pos_;
        while (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) ++e;
        tokens_.push_back({TokenType::kName, s_.substr(pos_, e - pos_), line});
        pos_ = e;
      } else if (c == '\'' || c == '"') {
        std::size_t e = pos_ + 1;
        while (e < s_.size() && s_[e] != c) e += s_[e] == '\\' ? 2 : 1;
        if (e >= s_.size()) syntax_error(origin_, line, "unterminated string literal");
        tokens_.push_back({TokenType::kString, unescape(s_.substr(pos_ + 1, e - pos_ - 1), origin_, line), line});
        pos_ = e + 1;
      } else {
        lex_operator(line, balance);
      }
    }
  }

  bool end_tag(bool block) {
    const char* close = block ? "%}" : "}}";
    if (s_.compare(pos_, 3, std::string("-") + close) == 0) {
      tokens_.push_back({block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", line_at(pos_)});
      pos_ = skip_spaces(s_, pos_ + 3);
    } else if (block && s_.compare(pos_, 3, "+%}") == 0) {
      tokens_.push_back({TokenType::kBlockEnd, "", line_at(pos_)});
      pos_ += 3;
    } else if (s_.compare(pos_, 2, close) == 0) {
      tokens_.push_back({block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", line_at(pos_)});
      pos_ += 2;
      if (block && pos_ < s_.size() && s_[pos_] == '\n') ++pos_;  // trim_blocks
    } else {
      return false;
    }
    line_starting_ = s_[pos_ - 1] == '\n';
    return true;
  }

  void lex_number(int line) {
    auto digits = [&](std::size_t p) {  // (\d+_)*\d+ from p: end, or p when none
      std::size_t e = p;
      while (e < s_.size() && std::isdigit(static_cast<unsigned char>(s_[e]))) {
        ++e;
        if (e + 1 < s_.size() && s_[e] == '_' && std::isdigit(static_cast<unsigned char>(s_[e + 1]))) ++e;
      }
      return e;
    };
    const bool after_dot = pos_ > 0 && s_[pos_ - 1] == '.';
    std::size_t e = digits(pos_);
    std::size_t f = e;
    bool is_float = false;
    if (!after_dot) {
      if (f < s_.size() && s_[f] == '.' && digits(f + 1) > f + 1) {
        f = digits(f + 1);
        is_float = true;
      }
      if (f < s_.size() && (s_[f] == 'e' || s_[f] == 'E')) {
        std::size_t x = f + 1;
        if (x < s_.size() && (s_[x] == '+' || s_[x] == '-')) ++x;
        if (digits(x) > x) {
          f = digits(x);
          is_float = true;
        }
      }
    }
    std::string text = s_.substr(pos_, (is_float ? f : e) - pos_);
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    if (!is_float && text.size() > 1 && text[0] == '0') {
      if (text.find_first_not_of('0') != std::string::npos || std::isalpha(static_cast<unsigned char>(s_[e])))
        syntax_error(origin_, line, "integer literals with a leading 0 (or 0x/0o/0b) are not supported");
      text = "0";
    }
    tokens_.push_back({is_float ? TokenType::kFloat : TokenType::kInteger, text, line});
    pos_ = is_float ? f : e;
  }

  void lex_operator(int line, std::vector<char>& balance) {
    static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwo)
      if (s_.compare(pos_, 2, op) == 0) {
        tokens_.push_back({TokenType::kOperator, op, line});
        pos_ += 2;
        return;
      }
    const char c = s_[pos_];
    if (!std::strchr("+-/*%~[](){}><=.:|,;", c) || c == 0) {
      std::string shown = c == 0 ? std::string("\\x00") : s_.substr(pos_, utf8::sequence_length(s_, pos_) ? utf8::sequence_length(s_, pos_) : 1);
      syntax_error(origin_, line, "unexpected character '" + shown + "'");
    }
    if (c == '(' || c == '[' || c == '{') balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) syntax_error(origin_, line, std::string("unexpected '") + c + "'");
      if (balance.back() != c) syntax_error(origin_, line, std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
      balance.pop_back();
    }
    tokens_.push_back({TokenType::kOperator, std::string(1, c), line});
    ++pos_;
  }

  std::string s_;
  const std::string& origin_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  bool line_starting_ = true;
  std::size_t counted_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& origin) {
  utf8::require_valid(source, origin);
  // Newlines: \r\n and \r become \n; one trailing newline goes (keep_trailing_newline=False).
  std::string s;
  s.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      s += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      s += source[i];
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return Lexer(std::move(s), origin).run();
}

}  // namespace ptft::jinja
