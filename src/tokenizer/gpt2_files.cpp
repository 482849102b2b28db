#include "gpt2_files.h"

#include <unordered_map>

#include "ptft/core/error.h"
#include "unicode_categories.h"

namespace ptft::gpt2_files {
namespace {

const char* const kVocabHint =
    "vocab.json (encoder.json) must be one JSON object mapping each token to a distinct "
    "integer id, as in Hugging Face's or OpenAI's GPT-2 files";
const char* const kMergesHint =
    "merges.txt (vocab.bpe) holds an optional '#version' line, then one merge per line: two "
    "tokens of vocab.json separated by a space, in rank order";

// JSON's one-character escapes: '\\' + kEscapes[k] stands for kMeanings[k].
constexpr std::string_view kEscapes = "\"\\/bfnrt";
constexpr std::string_view kMeanings = "\"\\/\b\f\n\r\t";

// "line:column" of byte offset `at` (both 1-based).
std::string where(std::string_view text, std::size_t at) {
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t k = 0; k < at && k < text.size(); ++k) {
    if (text[k] == '\n') ++line, line_start = k + 1;
  }
  return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

// What the text at `at` looks like, for "found ..." in messages.
std::string describe(std::string_view text, std::size_t at) {
  if (at >= text.size()) return "the end of the file";
  std::string_view s = text.substr(at, 12);
  s = s.substr(0, s.find('\n'));
  return "'" + std::string(s) + "'";
}

class VocabReader {
 public:
  VocabReader(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  std::vector<VocabEntry> read() {
    std::vector<VocabEntry> out;
    std::unordered_map<std::string, std::size_t> token_at;  // token -> offset of its key
    std::unordered_map<int32_t, std::size_t> id_at;         // id -> offset of its key
    skip_ws();
    if (s_.empty()) fail(0, "the file is empty");
    if (peek() != '{') fail(i_, "expected a JSON object '{', found " + describe(s_, i_));
    ++i_;
    skip_ws();
    if (peek() == '}') {
      ++i_;
    } else {
      for (;;) {
        skip_ws();
        const std::size_t key_at = i_;
        if (peek() != '"') fail(i_, "expected a token in quotes, found " + describe(s_, i_));
        std::string token = read_string();
        skip_ws();
        if (peek() != ':') fail(i_, "expected ':' after " + json_quote(token));
        ++i_;
        skip_ws();
        const int32_t id = read_id(token);
        auto [t, fresh_token] = token_at.emplace(token, key_at);
        if (!fresh_token)
          fail(key_at, "token " + json_quote(token) + " appears twice (first at " +
                           where(s_, t->second) + ")");
        auto [d, fresh_id] = id_at.emplace(id, key_at);
        if (!fresh_id)
          fail(key_at, "id " + std::to_string(id) + " of " + json_quote(token) +
                           " is already the id of the token at " + where(s_, d->second));
        out.push_back({std::move(token), id});
        skip_ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() == '}') {
          ++i_;
          break;
        }
        fail(i_, "expected ',' or '}', found " + describe(s_, i_));
      }
    }
    skip_ws();
    if (i_ != s_.size())
      fail(i_, "unexpected " + describe(s_, i_) + " after the object's closing '}'");
    return out;
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw UserError(path_ + ":" + where(s_, at) + ": " + what, kVocabHint);
  }
  int peek() const { return i_ < s_.size() ? static_cast<unsigned char>(s_[i_]) : -1; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }

  uint32_t read_hex4() {
    if (i_ + 4 > s_.size()) fail(i_, "truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_ + k];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        fail(i_ + k, "bad hex digit in \\u escape");
    }
    i_ += 4;
    return v;
  }

  // At the opening quote; returns the decoded string and leaves i_ after the closing quote.
  std::string read_string() {
    const std::size_t start = i_++;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail(start, "string is not closed");
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20) fail(i_, "control character in a string (JSON needs an escape)");
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) fail(start, "string is not closed");
        const char e = s_[i_ + 1];
        const std::size_t esc_at = i_;
        i_ += 2;
        if (const std::size_t k = kEscapes.find(e); k != std::string_view::npos) {
          out.push_back(kMeanings[k]);
          continue;
        }
        if (e != 'u') fail(esc_at, std::string("unknown escape '\\") + e + "'");
        uint32_t cp = read_hex4();
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a UTF-16 surrogate pair
          if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u')
            fail(esc_at, "unpaired surrogate in \\u escape");
          i_ += 2;
          const uint32_t lo = read_hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail(esc_at, "unpaired surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail(esc_at, "unpaired surrogate in \\u escape");
        }
        unicode::append_utf8(cp, &out);
        continue;
      }
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      uint32_t cp = 0;
      const int len = unicode::decode_utf8(s_.data() + i_, s_.size() - i_, &cp);
      if (len == 0) fail(i_, "invalid UTF-8 in a string");
      out.append(s_.data() + i_, len);
      i_ += len;
    }
  }

  int32_t read_id(const std::string& token) {
    const std::size_t start = i_;
    const int c = peek();
    const std::string whose = "the id of " + json_quote(token);
    if (c == '-') fail(start, whose + " is negative");
    if (c < '0' || c > '9')
      fail(start, whose + " is " + describe(s_, start) + ", not a non-negative integer");
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + (s_[i_] - '0');
      if (v > INT32_MAX) fail(start, whose + " is larger than 2^31-1");
      ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))
      fail(start, whose + " is " + describe(s_, start) + ", not an integer");
    return static_cast<int32_t>(v);
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

}  // namespace

std::vector<VocabEntry> parse_vocab_json(std::string_view text, const std::string& path) {
  return VocabReader(text, path).read();
}

std::vector<MergeLine> parse_merges_txt(std::string_view text, const std::string& path) {
  std::vector<MergeLine> out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("#version", 0) == 0) continue;
    std::vector<std::string_view> parts;
    std::size_t k = 0;
    while (k < line.size()) {
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
      const std::size_t b = k;
      while (k < line.size() && line[k] != ' ' && line[k] != '\t') ++k;
      if (k > b) parts.push_back(line.substr(b, k - b));
    }
    if (parts.size() != 2) {
      const std::string shown =
          line.size() > 60 ? json_quote(line.substr(0, 60)) + "..." : json_quote(line);
      throw UserError(path + ":" + std::to_string(line_no) + ": expected a merge 'a b' (two " +
                          "tokens), found " + std::to_string(parts.size()) + " in " + shown,
                      kMergesHint);
    }
    out.push_back({std::string(parts[0]), std::string(parts[1]), line_no});
  }
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const std::size_t k = c == '/' ? std::string_view::npos : kMeanings.find(ch);
    if (k != std::string_view::npos) {
      out.push_back('\\');
      out.push_back(kEscapes[k]);
    } else if (c < 0x20 || c == 0x7F) {
      static const char* const kHex = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace ptft::gpt2_files
