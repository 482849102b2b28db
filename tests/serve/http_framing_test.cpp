// Tests for ptft/serve/http_framing.h: requests framed as RFC 9112 says (Content-Length, chunked,
// no body), the same answer whether the bytes arrive at once or one by one, and every framing it
// cannot know refused with the reason.
#include "ptft/serve/http_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace ptft {
namespace {

using State = HttpFraming::State;

HttpFramingLimits limits(size_t header = 1024, size_t body = 100) { return {header, body}; }

// Feeds `bytes` whole, then again one byte at a time: both must agree; returns the framing.
HttpFraming framed(const std::string& bytes, HttpFramingLimits l = limits()) {
  HttpFraming whole(l);
  whole.scan(bytes);
  HttpFraming bytewise(l);
  for (size_t i = 1; i <= bytes.size(); ++i)
    if (bytewise.scan(std::string_view(bytes).substr(0, i)) != State::kIncomplete) break;
  EXPECT_EQ(whole.state(), bytewise.state()) << bytes;
  if (whole.state() == State::kComplete) {
    EXPECT_EQ(whole.length(), bytewise.length()) << bytes;
  }
  return whole;
}

TEST(ServeHttpFraming, ARequestWithoutBodyEndsAtTheBlankLine) {
  const std::string get = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  HttpFraming f = framed(get + "GET /next");  // a pipelined request after it is not part of it
  ASSERT_EQ(f.state(), State::kComplete);
  EXPECT_EQ(f.length(), get.size());
  EXPECT_EQ(framed("GET /health HTTP/1.1\r\nHost: x\r\n").state(), State::kIncomplete);
  // POST without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3).
  EXPECT_EQ(framed("POST /v1/completions HTTP/1.1\r\n\r\n{}").length(), 33u);
}

TEST(ServeHttpFraming, ContentLengthFramesTheBody) {
  const std::string head = "POST /v1/completions HTTP/1.1\r\ncontent-LENGTH:  5 \r\n\r\n";
  EXPECT_EQ(framed(head + "abcd").state(), State::kIncomplete);
  HttpFraming f = framed(head + "abcdeGET /");
  ASSERT_EQ(f.state(), State::kComplete);
  EXPECT_EQ(f.length(), head.size() + 5);
  EXPECT_EQ(framed("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").length(), 38u);
  // the same length twice is allowed
  EXPECT_EQ(framed("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx").state(), State::kComplete);
}

TEST(ServeHttpFraming, ChunkedBodiesEndAfterTheLastChunksBlankLine) {
  const std::string req =
      "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "4;name=value\r\nWiki\r\nA\r\n0123456789\r\n0\r\n\r\n";
  HttpFraming f = framed(req + "GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(f.state(), State::kComplete);
  EXPECT_EQ(f.length(), req.size());
  for (size_t cut = 49; cut < req.size(); cut += 3) EXPECT_EQ(framed(req.substr(0, cut)).state(), State::kIncomplete);
}

void expect_unframable(const std::string& bytes, const std::string& reason_part, HttpFramingLimits l = limits()) {
  HttpFraming f = framed(bytes, l);
  ASSERT_EQ(f.state(), State::kUnframable) << bytes;
  EXPECT_NE(f.reason().find(reason_part), std::string::npos) << f.reason();
}

TEST(ServeHttpFraming, FramingItCannotKnowIsRefusedWithTheReason) {
  expect_unframable("POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", "Content-Length '12a' is not a number");
  expect_unframable("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "is not a number");
  expect_unframable("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different");
  expect_unframable("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both");
  expect_unframable("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "not supported (only chunked)");
  const std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_unframable(chunked + "zz\r\n", "chunk size 'zz' is not hexadecimal");
  expect_unframable(chunked + "\r\n", "is not hexadecimal");
  expect_unframable(chunked + "3\r\nabcX", "not followed by CRLF");
  expect_unframable(chunked + "3\nabc", "does not end in CRLF");
  expect_unframable(chunked + "1000000000000000\r\n", "too large");
  expect_unframable(chunked + "0\r\nX-Trailer: 1\r\n\r\n", "trailer fields");
  expect_unframable(chunked + std::string(2000, '1'), "chunk-size line is over 1024 bytes", limits(1024, 1 << 20));
}

TEST(ServeHttpFraming, LimitsOnHeadersAndBodies) {
  // headers: refused as soon as the limit passes without a blank line
  expect_unframable("GET / HTTP/1.1\r\nX: " + std::string(1100, 'a'), "over 1024 bytes");
  expect_unframable("GET / HTTP/1.1\r\n" + std::string(600, 'b') + "\r\n" + std::string(600, 'c'), "over 1024 bytes");
  // a declared length over the limit: at once, before any of the body
  expect_unframable("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", "Content-Length 101 is over the limit of 100");
  EXPECT_EQ(framed("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x')).state(), State::kComplete);
  // chunked: only once more than the limit has arrived (cpp-httplib's 413 needs to read it)
  const std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(framed(chunked + "65\r\n" + std::string(100, 'x')).state(), State::kIncomplete);  // 101 declared, 100 here
  expect_unframable(chunked + "65\r\n" + std::string(101, 'x'), "chunked body is over the limit of 100");
  expect_unframable(chunked + "32\r\n" + std::string(50, 'x') + "\r\n33\r\n" + std::string(51, 'y'), "over the limit");
}

TEST(ServeHttpFraming, LinesNotEndingInCrlfAreSkippedAsCppHttplibDoes) {
  // cpp-httplib ignores header lines ending in a bare LF, so their Content-Length does not count
  const std::string req = "POST / HTTP/1.1\r\nContent-Length: 3\n\r\n";
  HttpFraming f = framed(req + "abc");
  ASSERT_EQ(f.state(), State::kComplete);
  EXPECT_EQ(f.length(), req.size());
  // a line without a colon is no header of ours (cpp-httplib answers 400)
  EXPECT_EQ(framed("GET / HTTP/1.1\r\nnonsense\r\n\r\n").state(), State::kComplete);
}

TEST(ServeHttpFraming, ExpectContinueIsAnsweredOnceAndItsLineDropped) {
  std::string buf = "POST /v1/completions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  HttpFraming f(limits());
  EXPECT_EQ(f.scan(buf), State::kIncomplete);
  EXPECT_TRUE(f.awaits_continue());
  f.drop_expect_line(buf);
  EXPECT_EQ(buf, "POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_FALSE(f.awaits_continue());
  buf += "{}";
  ASSERT_EQ(f.scan(buf), State::kComplete);
  EXPECT_EQ(f.length(), buf.size());
  // the body already here: nothing to answer; no Expect: nothing to drop
  HttpFraming g(limits());
  EXPECT_EQ(g.scan("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"), State::kComplete);
  EXPECT_FALSE(g.awaits_continue());
  std::string plain = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
  HttpFraming h(limits());
  h.scan(plain);
  EXPECT_FALSE(h.awaits_continue());
  h.drop_expect_line(plain);
  EXPECT_EQ(plain, "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
}

}  // namespace
}  // namespace ptft
