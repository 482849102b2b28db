#include "ptft/infer/text_stream.h"

#include <algorithm>

#include "../tokenizer/utf8_check.h"

namespace ptft {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Whether bytes [i, end) are the beginning of a well-formed sequence that the end cut off.
bool cut_off_sequence(const std::string& s, std::size_t i) {
  const std::size_t have = s.size() - i;
  if (have >= 4) return false;
  // Complete it with continuation bytes: 0xA0 suits the lead bytes E0 and F0 (whose second byte
  // must be >= 0xA0 / 0x90), 0x80 suits ED and F4 (<= 0x9F / 0x8F).
  for (const char filler : {'\x80', '\xA0'}) {
    const std::string padded = s.substr(i) + std::string(4, filler);
    if (utf8::sequence_length(padded, 0) > have) return true;
  }
  return false;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string complete_utf8(const std::string& bytes, bool at_end) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t len = utf8::sequence_length(bytes, i);
    if (len > 0) {
      out.append(bytes, i, len);
      i += len;
      continue;
    }
    if (!at_end && cut_off_sequence(bytes, i)) break;
    out += kReplacement;
    ++i;
  }
  if (!at_end)
    while (ends_with(out, kReplacement)) out.resize(out.size() - kReplacement.size());
  return out;
}

TextStream::TextStream(TokenizerPtr tokenizer, std::vector<std::string> stop)
    : tok_(std::move(tokenizer)), stop_(std::move(stop)) {}

std::string TextStream::push(int32_t id) {
  ids_.push_back(id);
  const std::string clean = complete_utf8(tok_->decode_stream(ids_), /*at_end=*/false);
  // The earliest stop string ends the text; otherwise hold back the longest tail that is the
  // beginning of a stop string.
  std::size_t stop_at = std::string::npos;
  for (const auto& s : stop_) stop_at = std::min(stop_at, clean.find(s));
  if (stop_at != std::string::npos) {
    stopped_ = true;
    return advance(clean, stop_at);
  }
  std::size_t hold = 0;
  for (const auto& s : stop_)
    for (std::size_t n = std::min(s.size() - 1, clean.size()); n > hold; --n)
      if (clean.compare(clean.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  return advance(clean, clean.size() - hold);
}

std::string TextStream::advance(const std::string& clean, std::size_t final_end) {
  // A tokenizer whose decoding of a longer sequence rewrites earlier text (none of ptft's do)
  // gets nothing more until finish().
  if (final_end <= emitted_.size() || clean.compare(0, emitted_.size(), emitted_) != 0) return {};
  std::string piece = clean.substr(emitted_.size(), final_end - emitted_.size());
  emitted_ += piece;
  return piece;
}

std::string TextStream::finish() {
  if (stopped_) return {};
  const std::string clean = complete_utf8(tok_->decode_stream(ids_), /*at_end=*/true);
  return advance(clean, clean.size());
}

}  // namespace ptft
