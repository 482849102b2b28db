#include "hf_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <vector>

#include "ptft/core/error.h"

namespace ptft::hf {
namespace {

// `pattern` with \s / \S spelled as the White_Space property; *orig_of[i] = the offset in
// `pattern` of the rewritten pattern's byte i (for PCRE2's error offsets).
std::string rewrite_whitespace(const std::string& pattern, std::vector<std::size_t>* orig_of) {
  std::string out;
  auto put = [&](const std::string& s, std::size_t from) {
    out += s;
    orig_of->insert(orig_of->end(), s.size(), from);
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      const char c = pattern[i + 1];
      if (c == 's' || c == 'S') {
        put(c == 's' ? "\\p{White_Space}" : "\\P{White_Space}", i);
      } else {
        put(pattern.substr(i, 2), i);
      }
      ++i;
      continue;
    }
    put(std::string(1, pattern[i]), i);
  }
  orig_of->push_back(pattern.size());
  return out;
}

// Per-thread PCRE2 state: match data (the whole match is all we read) and a JIT stack that
// grows up to 8 MB (long runs of one class, e.g. a megabyte of spaces).
struct MatchState {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
  MatchState() { pcre2_jit_stack_assign(context, nullptr, stack); }
  ~MatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

}  // namespace

Regex::Regex(const std::string& pattern, const JsonAt& at) : source_(pattern) {
  std::vector<std::size_t> orig_of;
  const std::string rewritten = rewrite_whitespace(pattern, &orig_of);
  int code = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(), PCRE2_UTF | PCRE2_UCP,
                        &code, &offset, nullptr);
  if (code_ == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    const std::size_t at_offset = orig_of[std::min<std::size_t>(offset, orig_of.size() - 1)];
    at.fail(Json(pattern),
            "not a regex PCRE2 can compile: " + std::string(reinterpret_cast<const char*>(message)) +
                " at offset " + std::to_string(at_offset),
            "fix the pattern (Oniguruma syntax as Hugging Face tokenizers reads it)");
  }
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(code_); }

bool Regex::find(std::string_view text, std::size_t from, std::size_t* begin, std::size_t* end) const {
  thread_local MatchState state;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  while (from < text.size()) {
    const int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), from, PCRE2_NO_UTF_CHECK, state.data,
                                          state.context)
                        : pcre2_match(code_, subject, text.size(), from, PCRE2_NO_UTF_CHECK, state.data,
                                      state.context);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw UserError("the tokenizer regex " + source_ + " failed on a text of " + std::to_string(text.size()) +
                          " bytes: " + reinterpret_cast<const char*>(message),
                      "split the text into smaller documents");
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(state.data);
    if (ov[1] > ov[0]) {
      *begin = ov[0];
      *end = ov[1];
      return true;
    }
    // An empty match: look again from the next character.
    from = ov[0] + 1;
    while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  }
  return false;
}

Pattern Pattern::from_json(const Json& j, const JsonAt& at) {
  at.require_object(j);
  if (j.size() == 1 && j.contains("String")) {
    const Json& s = j["String"];
    if (!s.is_string()) at["String"].fail(s, "expected a string", "write {\"String\": \"...\"}");
    return literal(s.get<std::string>());
  }
  if (j.size() == 1 && j.contains("Regex")) {
    const Json& s = j["Regex"];
    if (!s.is_string()) at["Regex"].fail(s, "expected a string", "write {\"Regex\": \"...\"}");
    return regex(s.get<std::string>(), at["Regex"]);
  }
  at.fail(j, "expected {\"String\": \"...\"} or {\"Regex\": \"...\"}",
          "a pattern is a literal string or a regex, one key");
}

Pattern Pattern::regex(const std::string& re, const JsonAt& at) {
  Pattern p;
  p.regex_ = std::make_shared<const Regex>(re, at);
  return p;
}

Pattern Pattern::literal(const std::string& s) {
  Pattern p;
  p.literal_ = s;
  return p;
}

}  // namespace ptft::hf
