// fuzz_http_framing — libFuzzer target for `ptft serve`'s request framing (src/serve/http_framing.cpp),
// the first code that reads a client's bytes. Properties, besides every sanitizer report:
//   - the bytes fed whole and fed in pieces give the same state and length;
//   - a complete request's length is within the bytes;
//   - after drop_expect_line, going on and starting afresh on the edited bytes agree.
// Input layout: byte 0 picks the header limit (64..1087), byte 1 the body limit (0..1020), byte 2
// the piece size (1..16); the rest is what the client sent.
//
//   build-fuzz/fuzz_http_framing -max_total_time=120 /tmp/framing-corpus tests/serve/fuzz_corpus_http_framing
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ptft/serve/http_framing.h"

namespace {

using ptft::HttpFraming;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_http_framing: %s\n", what);
  std::abort();
}

// Feeds `bytes` `piece` bytes at a time, answering Expect: 100-continue as the server does.
HttpFraming feed(std::string& bytes, ptft::HttpFramingLimits limits, size_t piece) {
  HttpFraming f(limits);
  for (size_t end = std::min(piece, bytes.size());; end = std::min(end + piece, bytes.size())) {
    if (f.scan(std::string_view(bytes).substr(0, end)) != HttpFraming::State::kIncomplete) break;
    if (f.awaits_continue()) {
      const size_t before = bytes.size();
      f.drop_expect_line(bytes);
      end -= before - bytes.size();
      HttpFraming fresh(limits);  // the edited bytes read from the start: the same verdict so far
      if (fresh.scan(std::string_view(bytes).substr(0, end)) != f.scan(std::string_view(bytes).substr(0, end)))
        fail("after drop_expect_line, a fresh scan disagrees");
    }
    if (end == bytes.size()) break;
  }
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const ptft::HttpFramingLimits limits{64 + static_cast<size_t>(data[0]) * 4, static_cast<size_t>(data[1]) * 4};
  const size_t piece = 1 + data[2] % 16;
  const std::string input(reinterpret_cast<const char*>(data) + 3, size - 3);

  HttpFraming whole(limits);
  whole.scan(input);
  if (whole.state() == HttpFraming::State::kComplete && (whole.length() == 0 || whole.length() > input.size()))
    fail("a complete request's length is outside the bytes");
  if (whole.state() == HttpFraming::State::kUnframable && whole.reason().empty()) fail("unframable without a reason");

  std::string pieces = input;
  HttpFraming split(limits);
  for (size_t end = piece;; end += piece) {
    if (split.scan(std::string_view(pieces).substr(0, std::min(end, pieces.size()))) != HttpFraming::State::kIncomplete ||
        end >= pieces.size())
      break;
  }
  if (split.state() != whole.state()) fail("whole and in pieces disagree on the state");
  if (split.state() == HttpFraming::State::kComplete && split.length() != whole.length())
    fail("whole and in pieces disagree on the length");

  std::string answered = input;
  feed(answered, limits, piece);
  return 0;
}
