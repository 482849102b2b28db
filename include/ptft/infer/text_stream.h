// ptft/infer/text_stream.h — generated token ids -> text pieces that are safe to print.
//
// A token may hold part of a character (byte-level BPE, SentencePiece byte pieces), and a stop
// string may begin in one token and end in a later one. TextStream decodes the whole
// continuation after each token and returns only the new text that can no longer change: whole
// UTF-8 characters (a sequence cut off at the end waits for its next byte; a byte that cannot
// start or continue one becomes U+FFFD), minus any tail that could still become a stop string.
// When a stop string appears, the text before it is final and the stream is stopped.
//
//   TextStream s(tokenizer, {"\nUser:"});
//   for (id : generated) { std::cout << s.push(id) << std::flush; if (s.stopped()) break; }
//   std::cout << s.finish();          // what was held back; s.text() == every piece joined
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

class TextStream {
 public:
  TextStream(TokenizerPtr tokenizer, std::vector<std::string> stop);
  // Appends one token; returns the text that became final (often empty).
  std::string push(int32_t id);
  // True once a stop string appeared; push() must not be called after that.
  bool stopped() const { return stopped_; }
  // The text still held back (a cut-off character as U+FFFD, a possible stop-string start).
  std::string finish();
  // Every piece returned so far, joined.
  const std::string& text() const { return emitted_; }

 private:
  // Returns the new final text of `clean` (the decoded continuation as valid UTF-8).
  std::string advance(const std::string& clean, std::size_t final_end);

  TokenizerPtr tok_;
  std::vector<std::string> stop_;
  std::vector<int32_t> ids_;
  std::string emitted_;
  bool stopped_ = false;
};

// `bytes` as valid UTF-8: every byte that is not part of a well-formed sequence becomes U+FFFD.
// Unless `at_end`, a sequence cut off by the end of `bytes` and trailing U+FFFDs (a decoder's
// rendering of such a sequence) are left out: more bytes may complete them.
std::string complete_utf8(const std::string& bytes, bool at_end);

}  // namespace ptft
