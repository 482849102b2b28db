#include "ptft/tokenizer/wordpiece.h"
#include "ptft/core/json_depth.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/hash.h"
#include "special_split.h"
#include "utf8_check.h"
#include "wordpiece_tables.h"

namespace ptft {
namespace {

namespace wt = wordpiece_tables;

// BERT's _is_whitespace: \t \n \r space and General_Category Zs.
bool is_whitespace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || wt::in(wt::kSpaceSeparator, wt::kSpaceSeparatorSize, c);
}

// BERT's _is_control: any General_Category C* except \t \n \r (those count as whitespace).
bool is_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  return wt::in(wt::kOther, wt::kOtherSize, c);
}

// BERT's _is_punctuation: all non-letter/number ASCII symbols, and General_Category P*.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return wt::in(wt::kPunctuation, wt::kPunctuationSize, c);
}

// BERT's _is_chinese_char: the CJK Unified Ideographs blocks (not Hangul, kana, etc.).
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// What Python's str.split() splits on, among what survives clean_text (which has already
// turned Zs/\t/\n/\r into spaces and dropped Cc): space, LINE and PARAGRAPH SEPARATOR.
bool is_split_space(char32_t c) { return c == U' ' || c == 0x2028 || c == 0x2029; }

// Python's str.lower(): full lower-case mapping plus the Final_Sigma rule for U+03A3.
std::u32string to_lower(const std::u32string& s) {
  auto cased = [](char32_t c) { return wt::in(wt::kCased, wt::kCasedSize, c); };
  auto ignorable = [](char32_t c) { return wt::in(wt::kCaseIgnorable, wt::kCaseIgnorableSize, c); };
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    if (c < 0x80) {
      out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
      continue;
    }
    if (c == 0x03A3) {
      // Final sigma: \p{Cased} \p{Case_Ignorable}* Σ !(\p{Case_Ignorable}* \p{Cased}).
      std::size_t j = i;
      while (j > 0 && ignorable(s[j - 1])) --j;
      bool final_sigma = j > 0 && cased(s[j - 1]);
      if (final_sigma) {
        std::size_t k = i + 1;
        while (k < s.size() && ignorable(s[k])) ++k;
        final_sigma = k == s.size() || !cased(s[k]);
      }
      out.push_back(final_sigma ? 0x03C2 : 0x03C3);
      continue;
    }
    if (const wt::CodeMap* m = wt::find(wt::kLower, wt::kLowerSize, c))
      out.append(wt::kLowerPool + m->offset, m->len);
    else
      out.push_back(c);
  }
  return out;
}

// BERT's _run_strip_accents: NFD, then drop General_Category Mn. Canonical reordering of
// combining marks is not applied: the marks it would move are Mn and dropped anyway.
std::u32string strip_accents(const std::u32string& s) {
  constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
  constexpr char32_t kTCount = 28, kNCount = 21 * 28, kSCount = 19 * 21 * 28;
  std::u32string out;
  out.reserve(s.size());
  auto keep = [&](char32_t c) {
    if (!wt::in(wt::kNonspacingMark, wt::kNonspacingMarkSize, c)) out.push_back(c);
  };
  for (char32_t c : s) {
    if (c < 0xC0) {
      out.push_back(c);  // below U+00C0 nothing decomposes canonically and nothing is Mn
    } else if (c >= kSBase && c < kSBase + kSCount) {
      const char32_t i = c - kSBase;  // Hangul syllable -> L V [T] jamo (none of them Mn)
      out.push_back(kLBase + i / kNCount);
      out.push_back(kVBase + (i % kNCount) / kTCount);
      if (i % kTCount != 0) out.push_back(kTBase + i % kTCount);
    } else if (const wt::CodeMap* m = wt::find(wt::kDecomposition, wt::kDecompositionSize, c)) {
      for (uint32_t k = 0; k < m->len; ++k) keep(wt::kDecompositionPool[m->offset + k]);
    } else {
      keep(c);
    }
  }
  return out;
}

std::vector<std::string> read_vocab_lines(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError("WordPiece vocabulary '" + path + "' does not exist or is not a file",
                    "point at a BERT vocab.txt (one token per line)");
  const std::string bytes = fs::read_file(path, "WordPiece vocabulary");
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    std::string line = bytes.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = "'" + path + "' line " + std::to_string(tokens.size() + 1);
    if (line.find('\0') != std::string::npos)
      throw UserError("WordPiece vocabulary " + where + " contains a NUL byte: this is not a vocab.txt",
                      "point at a BERT vocab.txt (UTF-8 text, one token per line)");
    try {
      utf8::require_valid(line, "token");
    } catch (const UserError& e) {
      throw e.with_context("WordPiece vocabulary " + where);
    }
    tokens.push_back(std::move(line));
    start = end + 1;
  }
  if (tokens.empty())
    throw UserError("WordPiece vocabulary '" + path + "' is empty", "point at a BERT vocab.txt (one token per line)");
  return tokens;
}

bool json_bool(const nlohmann::json& j, const char* key, bool fallback, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean())
    throw UserError("'" + file + "': \"" + key + "\" must be true or false, got " + j[key].dump(),
                    "fix or remove the key");
  return j[key].get<bool>();
}

}  // namespace

std::vector<std::string> bert_basic_tokenize(std::string_view text, const WordPieceOptions& opts) {
  utf8::require_valid(text, "text");
  const std::u32string in = utf8::to_utf32(text);
  // _clean_text + _tokenize_chinese_chars.
  std::u32string clean;
  clean.reserve(in.size());
  for (char32_t c : in) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      clean.push_back(U' ');
    } else if (opts.tokenize_chinese_chars && is_cjk(c)) {
      clean.push_back(U' ');
      clean.push_back(c);
      clean.push_back(U' ');
    } else {
      clean.push_back(c);
    }
  }
  const bool strip = opts.strip_accents.value_or(opts.do_lower_case);
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < clean.size()) {
    while (i < clean.size() && is_split_space(clean[i])) ++i;
    std::size_t j = i;
    while (j < clean.size() && !is_split_space(clean[j])) ++j;
    if (j == i) break;
    std::u32string word = clean.substr(i, j - i);
    if (opts.do_lower_case) word = to_lower(word);
    if (strip) word = strip_accents(word);
    // _run_split_on_punc: every punctuation character is a token of its own.
    std::u32string cur;
    for (char32_t c : word) {
      if (is_punctuation(c)) {
        if (!cur.empty()) out.push_back(utf8::from_utf32(cur));
        cur.clear();
        out.push_back(utf8::from_utf32(std::u32string(1, c)));
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) out.push_back(utf8::from_utf32(cur));
    i = j;
  }
  return out;
}

WordPiece::WordPiece(std::vector<std::string> tokens, WordPieceOptions opts, std::string origin)
    : tokens_(std::move(tokens)), opts_(opts), origin_(std::move(origin)) {
  if (opts_.max_input_chars_per_word < 1)
    throw UserError("WordPiece max_input_chars_per_word must be >= 1, got " +
                    std::to_string(opts_.max_input_chars_per_word));
  ids_.reserve(tokens_.size());
  // As Hugging Face's load_vocab: a duplicated token maps to its last line.
  for (std::size_t i = 0; i < tokens_.size(); ++i) ids_[tokens_[i]] = static_cast<int32_t>(i);
  auto unk = ids_.find(kUnkToken);
  if (unk == ids_.end())
    throw UserError("WordPiece vocabulary " + origin_ + " has no " + kUnkToken + " token (" +
                        std::to_string(tokens_.size()) + " tokens read)",
                    "a BERT vocab.txt lists [PAD] [UNK] [CLS] [SEP] [MASK]; is this the right file?");
  unk_id_ = unk->second;
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    auto it = ids_.find(s);
    if (it != ids_.end()) specials_.emplace_back(s, it->second);
  }
  std::sort(specials_.begin(), specials_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
}

std::shared_ptr<WordPiece> WordPiece::from_vocab_file(const std::string& path, WordPieceOptions opts) {
  return std::make_shared<WordPiece>(read_vocab_lines(path), opts, "'" + path + "'");
}

std::shared_ptr<WordPiece> WordPiece::from_dir(const std::string& dir) {
  WordPieceOptions opts;
  const std::string config = dir + "/tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(config, ec)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_json_text(config, "tokenizer config"));
    } catch (const nlohmann::json::exception& e) {
      throw UserError("'" + config + "' is not valid JSON: " + e.what(), "fix the file or remove it");
    }
    if (!j.is_object()) throw UserError("'" + config + "' must hold a JSON object", "fix the file or remove it");
    opts.do_lower_case = json_bool(j, "do_lower_case", opts.do_lower_case, config);
    opts.tokenize_chinese_chars = json_bool(j, "tokenize_chinese_chars", opts.tokenize_chinese_chars, config);
    if (j.contains("strip_accents") && !j["strip_accents"].is_null())
      opts.strip_accents = json_bool(j, "strip_accents", false, config);
  }
  return from_vocab_file(dir + "/vocab.txt", opts);
}

void WordPiece::split_word(const std::string& word, std::vector<std::string>& out) const {
  // Code point boundaries: WordPiece matches whole characters, as BERT's Python does.
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < word.size(); i += utf8::sequence_length(word, i)) cuts.push_back(i);
  cuts.push_back(word.size());
  const std::size_t n = cuts.size() - 1;
  if (n > static_cast<std::size_t>(opts_.max_input_chars_per_word)) {
    out.push_back(kUnkToken);
    return;
  }
  const std::size_t first = out.size();
  std::string piece;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = n;
    bool found = false;
    for (; end > start; --end) {
      piece.assign(start > 0 ? "##" : "");
      piece.append(word, cuts[start], cuts[end] - cuts[start]);
      if (ids_.count(piece)) {
        found = true;
        break;
      }
    }
    if (!found) {
      out.resize(first);
      out.push_back(kUnkToken);
      return;
    }
    out.push_back(piece);
    start = end;
  }
}

std::vector<std::string> WordPiece::tokenize(std::string_view text) const {
  utf8::require_valid(text, "text");
  std::vector<std::string> out;
  SpecialSplitter splitter(specials_);
  splitter.split(
      text,
      [&](std::string_view part) {
        for (const std::string& word : bert_basic_tokenize(part, opts_)) split_word(word, out);
      },
      [&](int32_t id) { out.push_back(tokens_[static_cast<std::size_t>(id)]); });
  return out;
}

std::vector<int32_t> WordPiece::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const std::string& t : tokenize(text)) ids.push_back(ids_.at(t));
  return ids;
}

std::string WordPiece::decode(const std::vector<int32_t>& ids) const {
  const auto pad = ids_.find("[PAD]");
  std::string joined;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size())
      throw UserError("token id " + std::to_string(id) + " is out of range for this WordPiece vocabulary (0.." +
                          std::to_string(vocab_size() - 1) + ")",
                      "decode ids made with this tokenizer");
    if (pad != ids_.end() && id == pad->second) continue;
    if (!joined.empty()) joined += ' ';
    joined += tokens_[static_cast<std::size_t>(id)];
  }
  // " ".join(tokens).replace(" ##", "").strip(), as Hugging Face's BertTokenizer.
  std::string out;
  out.reserve(joined.size());
  for (std::size_t i = 0; i < joined.size(); ++i) {
    if (joined.compare(i, 3, " ##") == 0) {
      i += 2;
      continue;
    }
    out += joined[i];
  }
  const std::size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  return out.substr(b, out.find_last_not_of(' ') - b + 1);
}

std::string WordPiece::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UserError("token id " + std::to_string(id) + " is out of range (0.." + std::to_string(vocab_size() - 1) + ")");
  return tokens_[static_cast<std::size_t>(id)];
}

std::optional<int32_t> WordPiece::token_to_id(const std::string& token) const {
  auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

int32_t WordPiece::eot_id() const {
  auto it = ids_.find("[SEP]");
  return it != ids_.end() ? it->second : unk_id_;
}

std::vector<std::string> WordPiece::special_tokens() const {
  std::vector<std::string> out;
  for (const auto& [tok, id] : specials_) out.push_back(tok);
  return out;
}

std::string WordPiece::vocab_text() const {
  std::string s;
  for (const auto& t : tokens_) {
    s += t;
    s += '\n';
  }
  return s;
}

std::string WordPiece::content_hash() const {
  // The ids depend on the vocabulary and on the normalisation options.
  const std::string options = std::string("\0wordpiece", 10) + " lower=" + (opts_.do_lower_case ? "1" : "0") +
                              " strip=" + (opts_.strip_accents ? (*opts_.strip_accents ? "1" : "0") : "auto") +
                              " cjk=" + (opts_.tokenize_chinese_chars ? "1" : "0") +
                              " max=" + std::to_string(opts_.max_input_chars_per_word);
  return fnv1a64_hex(vocab_text() + options);
}

void WordPiece::save(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError("cannot create tokenizer directory '" + dir + "': " + ec.message());
  nlohmann::json config = {{"type", "wordpiece"},
                           {"do_lower_case", opts_.do_lower_case},
                           {"tokenize_chinese_chars", opts_.tokenize_chinese_chars},
                           {"special_tokens", special_tokens()},
                           {"vocab_size", vocab_size()}};
  config["strip_accents"] = opts_.strip_accents ? nlohmann::json(*opts_.strip_accents) : nlohmann::json();
  fs::write_file_atomic(dir + "/vocab.txt", vocab_text());
  fs::write_file_atomic(dir + "/tokenizer_config.json", config.dump(2) + "\n");
}

}  // namespace ptft
