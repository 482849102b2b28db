// ptft/serve/http_framing.h — where one HTTP/1.1 request ends in the bytes a connection has sent
// so far. `ptft serve` reads requests without a thread per connection (connection_loop.h) and
// hands each to cpp-httplib only once it is all there, so that a slow or silent client holds a
// buffer, not a thread.
//
//   HttpFraming f({64 << 10, 1 << 20});
//   f.scan(buf);                        // after each read; buf starts with the request's first byte
//   if (f.state() == HttpFraming::State::kComplete) serve(buf.substr(0, f.length()));
//
// kUnframable means the framing cannot be known (a malformed Content-Length or chunk size, both
// Content-Length and Transfer-Encoding, headers or a body over the limits): the bytes so far go to
// cpp-httplib, which answers the error (400, 413, 414), and the connection closes after it. The
// rules are RFC 9112's: Content-Length or chunked Transfer-Encoding frame a body, otherwise there
// is none; header lines must end in CRLF (cpp-httplib skips others, so they are skipped here too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ptft {

struct HttpFramingLimits {
  size_t max_header_bytes = 64 << 10;  // request line + headers + the blank line
  size_t max_body_bytes = 1 << 20;     // the body as the handler sees it (chunks decoded)
};

class HttpFraming {
 public:
  enum class State { kIncomplete, kComplete, kUnframable };

  explicit HttpFraming(HttpFramingLimits limits) : limits_(limits) {}

  // Examines `bytes`: everything the client has sent for this request, the bytes of earlier calls
  // first (only the new ones are read again). Returns state().
  State scan(std::string_view bytes);
  State state() const { return state_; }
  // kComplete: the request's size in bytes, request line to the end of the body.
  size_t length() const { return length_; }
  // kUnframable: why, for logs and tests ("Content-Length 'x' is not a number").
  const std::string& reason() const { return reason_; }
  // kUnframable because the body is over max_body_bytes (declared, or chunks received): a 413.
  bool body_too_large() const { return too_large_; }
  // The headers are in, they ask "Expect: 100-continue" and the body is not all here: the server
  // should answer "100 Continue" now, or the client waits before sending its body.
  bool awaits_continue() const;
  // Removes the Expect header line from `bytes` (whose start scan() has seen) once the server has
  // answered it, so that cpp-httplib does not answer it a second time. No-op without one.
  void drop_expect_line(std::string& bytes);

 private:
  enum class Body { kUnknown, kNone, kLength, kChunked };
  void scan_headers(std::string_view bytes);
  void header_line(size_t begin, std::string_view line);  // a CRLF-terminated line at `begin`, CRLF excluded
  void scan_chunks(std::string_view bytes);
  void fail(std::string why, bool too_large = false);

  HttpFramingLimits limits_;
  State state_ = State::kIncomplete;
  std::string reason_;
  bool too_large_ = false;
  size_t length_ = 0;
  size_t pos_ = 0;          // where scanning goes on: the next line's start, or the next chunk's
  size_t header_end_ = 0;   // 0 until the blank line has been seen
  bool request_line_ = true;
  Body body_ = Body::kUnknown;
  bool has_length_ = false;
  uint64_t content_length_ = 0;
  bool chunked_ = false;
  size_t expect_begin_ = 0, expect_end_ = 0;  // the Expect line's bytes, CRLF included
  uint64_t chunk_left_ = 0; // data bytes of the current chunk not yet here
  bool data_crlf_ = false;  // the CRLF after a chunk's data is due
  uint64_t decoded_ = 0;    // chunk data bytes counted so far
  bool last_chunk_ = false; // the 0-size chunk has been read; the blank line follows
};

}  // namespace ptft
