#include "hf_pre_tokenizer.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <array>

#include "byte_alphabet.h"
#include "hf_regex.h"

namespace ptft::hf {
namespace {

// SplitDelimiterBehavior of Hugging Face tokenizers: what becomes of the matches.
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const Json& obj, const JsonAt& at, Behavior def) {
  const std::string b = at.string_or(obj, "behavior", "");
  if (b.empty()) return def;
  static const std::vector<std::string> kNames = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                                  "Contiguous"};
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (b == kNames[i]) return static_cast<Behavior>(i);
  at["behavior"].unknown_type(b, kNames);
}

struct Segment {
  std::size_t begin, end;
  bool match;
};

// Splits one piece at the matches of `pattern` as HF's NormalizedString::split does: the text is
// cut into alternating gaps and matches (invert: the gaps are the delimiters), `behavior` decides
// what becomes of the delimiters, empty parts are dropped.
void split_piece(const Pieces& in, const Piece& piece, const Pattern& pattern, bool invert, Behavior behavior,
                 std::vector<Piece>* out) {
  const std::string_view s = in.view(piece);
  std::vector<Segment> segs;
  std::size_t prev = 0;
  pattern.for_each_match(s, [&](std::size_t b, std::size_t e) {
    if (b > prev) segs.push_back({prev, b, invert});
    segs.push_back({b, e, !invert});
    prev = e;
  });
  if (prev < s.size()) segs.push_back({prev, s.size(), invert});

  std::vector<Segment> parts;  // .match = remove it
  bool previous_match = false;
  switch (behavior) {
    case Behavior::kRemoved:
      parts = segs;
      break;
    case Behavior::kIsolated:
      for (const auto& g : segs) parts.push_back({g.begin, g.end, false});
      break;
    case Behavior::kMergedWithPrevious:
      for (const auto& g : segs) {
        if (g.match && !previous_match && !parts.empty())
          parts.back().end = g.end;
        else
          parts.push_back({g.begin, g.end, false});
        previous_match = g.match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->match && !previous_match && !parts.empty())
          parts.back().begin = it->begin;
        else
          parts.push_back({it->begin, it->end, false});
        previous_match = it->match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    case Behavior::kContiguous:
      for (const auto& g : segs) {
        if (g.match == previous_match && !parts.empty())
          parts.back().end = g.end;
        else
          parts.push_back({g.begin, g.end, false});
        previous_match = g.match;
      }
      break;
  }
  for (const auto& p : parts) {
    if (p.match || p.end == p.begin) continue;
    out->push_back({piece.begin + static_cast<uint32_t>(p.begin), static_cast<uint32_t>(p.end - p.begin),
                    piece.at_start && p.begin == 0});
  }
}

// A pre-tokenizer that only cuts: Split and the fixed patterns (Digits, Whitespace, ...).
class Splitter : public PreTokenizer {
 public:
  Splitter(Pattern pattern, bool invert, Behavior behavior)
      : pattern_(std::move(pattern)), invert_(invert), behavior_(behavior) {}
  void apply(Pieces* p) const override {
    std::vector<Piece> out;
    out.reserve(p->list.size() * 2);
    for (const Piece& piece : p->list) split_piece(*p, piece, pattern_, invert_, behavior_, &out);
    p->list.swap(out);
  }

 private:
  Pattern pattern_;
  bool invert_;
  Behavior behavior_;
};

// Rewrites each piece into a new buffer: f(piece text, Piece, &out text) appends the new text.
template <class F>
void rewrite(Pieces* p, F&& f) {
  std::string text;
  text.reserve(p->text.size() + p->text.size() / 4 + 8);
  for (Piece& piece : p->list) {
    const std::size_t begin = text.size();
    f(p->view(piece), piece, &text);
    piece.begin = static_cast<uint32_t>(begin);
    piece.size = static_cast<uint32_t>(text.size() - begin);
  }
  p->text.swap(text);
}

// GPT-2's pre-tokenizer regex, which ByteLevel applies when use_regex is true.
const Pattern& gpt2_pattern() {
  static const Pattern p = Pattern::regex(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)",
                                          JsonAt{"(built in)", "GPT-2 regex"});
  return p;
}

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex, bool map_bytes)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex), map_bytes_(map_bytes) {}
  void apply(Pieces* p) const override {
    if (add_prefix_space_) {
      bool any = false;
      for (const Piece& piece : p->list) any = any || p->text[piece.begin] != ' ';
      if (any)
        rewrite(p, [](std::string_view s, const Piece&, std::string* out) {
          if (s[0] != ' ') out->push_back(' ');
          out->append(s.data(), s.size());
        });
    }
    if (use_regex_) Splitter(gpt2_pattern(), false, Behavior::kIsolated).apply(p);
    if (!map_bytes_) return;
    const auto& letters = byte_alphabet_utf8();
    rewrite(p, [&](std::string_view s, const Piece&, std::string* out) {
      for (const char c : s) *out += letters[static_cast<unsigned char>(c)];
    });
  }

 private:
  bool add_prefix_space_, use_regex_, map_bytes_;
};

class Metaspace : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  Metaspace(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}
  void apply(Pieces* p) const override {
    rewrite(p, [&](std::string_view s, const Piece& piece, std::string* out) {
      const bool starts = s.substr(0, replacement_.size()) == replacement_ ||
                          (s[0] == ' ' && !replacement_.empty());  // ' ' becomes the replacement
      if (!starts && (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && piece.at_start)))
        *out += replacement_;
      for (const char c : s) {
        if (c == ' ')
          *out += replacement_;
        else
          out->push_back(c);
      }
    });
    if (split_) Splitter(Pattern::literal(replacement_), false, Behavior::kMergedWithNext).apply(p);
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void apply(Pieces* p) const override {
    for (const auto& t : parts_) t->apply(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

std::unique_ptr<PreTokenizer> make(const Json& j, const JsonAt& at, bool last, bool* byte_level) {
  static const std::vector<std::string> kKnown = {"Split",       "ByteLevel",          "Metaspace", "Digits",
                                                  "Whitespace",  "WhitespaceSplit",    "Punctuation",
                                                  "CharDelimiterSplit", "Sequence"};
  if (j.is_null()) return nullptr;
  const std::string type = at.type(j, kKnown);
  if (type == "Split") {
    return std::make_unique<Splitter>(Pattern::from_json(at.required(j, "pattern"), at["pattern"]),
                                      at.boolean_or(j, "invert", false),
                                      parse_behavior(j, at, Behavior::kIsolated));
  }
  if (type == "ByteLevel") {
    if (last) *byte_level = true;
    return std::make_unique<ByteLevel>(at.boolean_or(j, "add_prefix_space", true), at.boolean_or(j, "use_regex", true),
                                       /*map_bytes=*/!last);
  }
  if (type == "Metaspace") {
    const std::string replacement = at.string_or(j, "replacement", "\xE2\x96\x81");
    int32_t i = 0;
    UChar32 c = 0;
    U8_NEXT(reinterpret_cast<const uint8_t*>(replacement.data()), i, static_cast<int32_t>(replacement.size()), c);
    if (replacement.empty() || static_cast<std::size_t>(i) != replacement.size() || c < 0)
      at["replacement"].fail(Json(replacement), "expected one character", "HF's Metaspace replaces ' ' with one character, usually \"\u2581\"");
    Metaspace::Prepend prepend = at.boolean_or(j, "add_prefix_space", true) ? Metaspace::Prepend::kAlways
                                                                            : Metaspace::Prepend::kNever;
    const std::string scheme = at.string_or(j, "prepend_scheme", "");
    if (scheme == "always") prepend = Metaspace::Prepend::kAlways;
    else if (scheme == "first") prepend = Metaspace::Prepend::kFirst;
    else if (scheme == "never") prepend = Metaspace::Prepend::kNever;
    else if (!scheme.empty()) at["prepend_scheme"].unknown_type(scheme, {"always", "first", "never"});
    return std::make_unique<Metaspace>(replacement, prepend, at.boolean_or(j, "split", true));
  }
  if (type == "Digits") {
    const bool individual = at.boolean_or(j, "individual_digits", false);
    return std::make_unique<Splitter>(Pattern::regex(individual ? R"(\p{N})" : R"(\p{N}+)", at), false,
                                      Behavior::kIsolated);
  }
  if (type == "Whitespace") {
    // Rust regex's \w: Alphabetic, marks, decimal digits, connector punctuation, join controls.
    const std::string w = R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control})";
    return std::make_unique<Splitter>(Pattern::regex("[" + w + "]+|[^" + w + R"(\s]+)", at), true,
                                      Behavior::kRemoved);
  }
  if (type == "WhitespaceSplit")
    return std::make_unique<Splitter>(Pattern::regex(R"(\s)", at), false, Behavior::kRemoved);
  if (type == "Punctuation")
    return std::make_unique<Splitter>(Pattern::regex(R"([\p{P}!-/:-@\[-`{-~])", at), false,
                                      parse_behavior(j, at, Behavior::kIsolated));
  if (type == "CharDelimiterSplit")
    return std::make_unique<Splitter>(Pattern::literal(at.string(j, "delimiter")), false, Behavior::kRemoved);
  const Json& list = at.required(j, "pretokenizers");
  if (!list.is_array())
    at["pretokenizers"].fail(list, "expected a list of pre-tokenizers", "write [{\"type\": ...}, ...]");
  std::vector<std::unique_ptr<PreTokenizer>> parts;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto t = make(list[i], at["pretokenizers"][i], last && i + 1 == list.size(), byte_level))
      parts.push_back(std::move(t));
  return std::make_unique<Sequence>(std::move(parts));
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j, const JsonAt& at, bool* byte_level) {
  *byte_level = false;
  return make(j, at, /*last=*/true, byte_level);
}

const std::vector<std::string>& byte_alphabet_utf8() {
  static const std::vector<std::string> letters = [] {
    std::vector<std::string> v(256);
    const auto cps = byte_code_points();
    for (int b = 0; b < 256; ++b) {
      char buf[4];
      int32_t n = 0;
      U8_APPEND_UNSAFE(reinterpret_cast<uint8_t*>(buf), n, static_cast<UChar32>(cps[b]));
      v[b].assign(buf, static_cast<std::size_t>(n));
    }
    return v;
  }();
  return letters;
}

bool bytes_of_alphabet(std::string_view s, std::string* bytes) {
  static const auto byte_of = byte_of_code_points();
  bytes->clear();
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto n = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0 || c >= static_cast<UChar32>(byte_of.size()) || byte_of[c] < 0) return false;
    bytes->push_back(static_cast<char>(byte_of[c]));
  }
  return true;
}

}  // namespace ptft::hf
