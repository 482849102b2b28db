#include "hf_decoder.h"

#include <unicode/utf8.h>

#include "hf_pre_tokenizer.h"
#include "hf_regex.h"

namespace ptft::hf {
namespace {

void replace_all(std::string* s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  std::size_t done = 0;
  for (std::size_t at = s->find(from); at != std::string::npos; at = s->find(from, done)) {
    out.append(*s, done, at - done);
    out += to;
    done = at + from.size();
  }
  if (done == 0) return;
  out.append(*s, done, std::string::npos);
  s->swap(out);
}

// Byte-level tokens back to bytes; runs of them between added tokens are joined first.
class ByteLevel : public Decoder {
 public:
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    std::vector<DecodePiece> out;
    std::string bytes, run;
    for (const DecodePiece& t : *tokens) {
      if (t.added) {
        if (!run.empty()) out.push_back({std::move(run), false});
        run.clear();
        out.push_back(t);
        continue;
      }
      // A token with a character outside the alphabet stands for its own UTF-8 (as in HF).
      run += bytes_of_alphabet(t.text, &bytes) ? bytes : t.text;
    }
    if (!run.empty()) out.push_back({std::move(run), false});
    tokens->swap(out);
  }
};

class Metaspace : public Decoder {
 public:
  Metaspace(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    for (std::size_t i = 0; i < tokens->size(); ++i) {
      std::string& s = (*tokens)[i].text;
      replace_all(&s, replacement_, " ");
      if (i == 0 && strip_first_ && !s.empty() && s[0] == ' ') s.erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class Replace : public Decoder {
 public:
  Replace(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    for (DecodePiece& t : *tokens) {
      std::string out;
      std::size_t done = 0;
      pattern_.for_each_match(t.text, [&](std::size_t b, std::size_t e) {
        out.append(t.text, done, b - done);
        out += content_;
        done = e;
      });
      if (done == 0) continue;
      out.append(t.text, done, std::string::npos);
      t.text.swap(out);
    }
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Runs of "<0xNN>" tokens become their bytes.
class ByteFallback : public Decoder {
 public:
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    std::vector<DecodePiece> out;
    std::string bytes;
    bool in_run = false;
    for (DecodePiece& t : *tokens) {
      int byte = -1;
      const std::string& s = t.text;
      if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>') byte = hex_byte(s[3], s[4]);
      if (byte >= 0) {
        bytes.push_back(static_cast<char>(byte));
        in_run = true;
        continue;
      }
      if (in_run) out.push_back({std::move(bytes), false});
      bytes.clear();
      in_run = false;
      out.push_back(std::move(t));
    }
    if (in_run) out.push_back({std::move(bytes), false});
    tokens->swap(out);
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static int hex_byte(char hi, char lo) {
    const int h = hex_digit(hi), l = hex_digit(lo);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
  }
};

class Fuse : public Decoder {
 public:
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    std::string all;
    for (const DecodePiece& t : *tokens) all += t.text;
    tokens->assign(1, DecodePiece{std::move(all), false});
  }
};

// Up to `start` leading and `stop` trailing copies of one character, per token.
class Strip : public Decoder {
 public:
  Strip(std::string content, int64_t start, int64_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    const std::size_t n = content_.size();
    for (DecodePiece& t : *tokens) {
      std::size_t begin = 0, end = t.text.size();
      for (int64_t i = 0; i < start_ && end - begin >= n && t.text.compare(begin, n, content_) == 0; ++i) begin += n;
      for (int64_t i = 0; i < stop_ && end - begin >= n && t.text.compare(end - n, n, content_) == 0; ++i) end -= n;
      t.text = t.text.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  int64_t start_, stop_;
};

// BPE with an end-of-word suffix ("</w>"): the suffix becomes a space, except in the last token.
class BpeSuffix : public Decoder {
 public:
  explicit BpeSuffix(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    for (std::size_t i = 0; i < tokens->size(); ++i)
      replace_all(&(*tokens)[i].text, suffix_, i + 1 == tokens->size() ? "" : " ");
  }

 private:
  std::string suffix_;
};

class Sequence : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<DecodePiece>* tokens) const override {
    for (const auto& d : parts_) d->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

std::string one_character(const Json& j, const JsonAt& at, const char* key, const std::string& def) {
  const std::string s = at.string_or(j, key, def);
  int32_t i = 0;
  UChar32 c = 0;
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, static_cast<int32_t>(s.size()), c);
  if (s.empty() || static_cast<std::size_t>(i) != s.size() || c < 0)
    at[key].fail(Json(s), "expected one character", "write a string of one character");
  return s;
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& j, const JsonAt& at) {
  if (j.is_null()) return nullptr;
  static const std::vector<std::string> kKnown = {"ByteLevel", "Metaspace", "Replace", "ByteFallback", "Fuse",
                                                  "Strip",     "BPEDecoder", "Sequence"};
  const std::string type = at.type(j, kKnown);
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Metaspace") {
    bool strip_first = at.boolean_or(j, "add_prefix_space", true);
    const std::string scheme = at.string_or(j, "prepend_scheme", "");
    if (!scheme.empty()) {
      if (scheme != "always" && scheme != "first" && scheme != "never")
        at["prepend_scheme"].unknown_type(scheme, {"always", "first", "never"});
      strip_first = scheme != "never";
    }
    return std::make_unique<Metaspace>(one_character(j, at, "replacement", "\xE2\x96\x81"), strip_first);
  }
  if (type == "Replace")
    return std::make_unique<Replace>(Pattern::from_json(at.required(j, "pattern"), at["pattern"]),
                                     at.string(j, "content"));
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip")
    return std::make_unique<Strip>(one_character(j, at, "content", " "), at.integer_or(j, "start", 0),
                                   at.integer_or(j, "stop", 0));
  if (type == "BPEDecoder") return std::make_unique<BpeSuffix>(at.string_or(j, "suffix", "</w>"));
  const Json& list = at.required(j, "decoders");
  if (!list.is_array()) at["decoders"].fail(list, "expected a list of decoders", "write [{\"type\": ...}, ...]");
  std::vector<std::unique_ptr<Decoder>> parts;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto d = make_decoder(list[i], at["decoders"][i])) parts.push_back(std::move(d));
  return std::make_unique<Sequence>(std::move(parts));
}

std::string clean_up_tokenization(std::string text) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) replace_all(&text, from, to);
  return text;
}

}  // namespace ptft::hf
