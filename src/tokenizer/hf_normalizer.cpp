#include "hf_normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <vector>

#include "hf_regex.h"
#include "ptft/core/error.h"
#include "white_space.h"

namespace ptft::hf {
namespace {

void check_icu(UErrorCode status, const char* what) {
  if (U_FAILURE(status))
    throw InternalError(std::string("ICU ") + what + " failed: " + u_errorName(status), "is libicu installed whole?");
}

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(const std::string& form) {
    UErrorCode status = U_ZERO_ERROR;
    if (form == "NFC") norm_ = icu::Normalizer2::getNFCInstance(status);
    if (form == "NFD") norm_ = icu::Normalizer2::getNFDInstance(status);
    if (form == "NFKC") norm_ = icu::Normalizer2::getNFKCInstance(status);
    if (form == "NFKD") norm_ = icu::Normalizer2::getNFKDInstance(status);
    check_icu(status, "Normalizer2::getInstance");
  }
  void normalize(std::string* s) const override {
    UErrorCode status = U_ZERO_ERROR;
    if (norm_->isNormalizedUTF8(*s, status) && U_SUCCESS(status)) return;
    status = U_ZERO_ERROR;
    std::string out;
    out.reserve(s->size() + s->size() / 8);
    icu::StringByteSink<std::string> sink(&out);
    norm_->normalizeUTF8(0, *s, sink, nullptr, status);
    check_icu(status, "normalizeUTF8");
    s->swap(out);
  }

 private:
  const icu::Normalizer2* norm_ = nullptr;
};

// Rust's str::to_lowercase(): full Unicode lowercasing, final sigma by context (ICU's root
// locale does the same).
class Lowercase : public Normalizer {
 public:
  void normalize(std::string* s) const override {
    UErrorCode status = U_ZERO_ERROR;
    std::string out;
    out.reserve(s->size());
    icu::StringByteSink<std::string> sink(&out);
    icu::CaseMap::utf8ToLower("", 0, *s, sink, nullptr, status);
    check_icu(status, "utf8ToLower");
    s->swap(out);
  }
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string* s) const override {
    if (!s->empty()) s->insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class Replace : public Normalizer {
 public:
  Replace(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string* s) const override {
    std::string out;
    std::size_t done = 0;
    pattern_.for_each_match(*s, [&](std::size_t b, std::size_t e) {
      out.append(*s, done, b - done);
      out += content_;
      done = e;
    });
    if (done == 0 && out.empty()) return;  // no match
    out.append(*s, done, std::string::npos);
    s->swap(out);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Whitespace as Rust's char::is_whitespace (the White_Space property).
class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string* s) const override {
    const std::size_t begin = left_ ? white_space_end(*s, 0) : 0;
    const std::size_t end = right_ ? white_space_begin(*s, s->size(), begin) : s->size();
    *s = s->substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

// Drops combining marks (General_Category M), as HF's StripAccents.
class StripAccents : public Normalizer {
 public:
  void normalize(std::string* s) const override {
    const auto n = static_cast<int32_t>(s->size());
    const auto* p = reinterpret_cast<const uint8_t*>(s->data());
    std::string out;
    out.reserve(s->size());
    for (int32_t i = 0; i < n;) {
      const int32_t start = i;
      UChar32 c;
      U8_NEXT(p, i, n, c);
      if ((U_GET_GC_MASK(c) & U_GC_M_MASK) == 0) out.append(*s, start, i - start);
    }
    s->swap(out);
  }
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string* s) const override {
    for (const auto& n : parts_) n->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& j, const JsonAt& at) {
  if (j.is_null()) return nullptr;
  static const std::vector<std::string> kKnown = {"NFC",     "NFD",   "NFKC",         "NFKD",    "Lowercase",
                                                  "Prepend", "Replace", "Strip", "StripAccents", "Sequence"};
  const std::string type = at.type(j, kKnown);
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") return std::make_unique<UnicodeForm>(type);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Prepend") return std::make_unique<Prepend>(at.string(j, "prepend"));
  if (type == "Replace")
    return std::make_unique<Replace>(Pattern::from_json(at.required(j, "pattern"), at["pattern"]),
                                     at.string(j, "content"));
  if (type == "Strip")
    return std::make_unique<Strip>(at.boolean_or(j, "strip_left", false), at.boolean_or(j, "strip_right", false));
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  const Json& list = at.required(j, "normalizers");
  if (!list.is_array()) at["normalizers"].fail(list, "expected a list of normalizers", "write [{\"type\": ...}, ...]");
  std::vector<std::unique_ptr<Normalizer>> parts;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto n = make_normalizer(list[i], at["normalizers"][i])) parts.push_back(std::move(n));
  return std::make_unique<Sequence>(std::move(parts));
}

}  // namespace ptft::hf
