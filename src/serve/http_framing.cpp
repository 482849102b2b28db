#include "ptft/serve/http_framing.h"

#include <algorithm>
#include <cctype>

namespace ptft {
namespace {

constexpr size_t kMaxChunkLine = 1024;  // a chunk-size line with its extensions
constexpr size_t kMaxShown = 40;        // characters of a bad value quoted in reason()

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string shown(std::string_view s) {
  return "'" + std::string(s.substr(0, kMaxShown)) + (s.size() > kMaxShown ? "...'" : "'");
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void HttpFraming::fail(std::string why, bool too_large) {
  state_ = State::kUnframable;
  reason_ = std::move(why);
  too_large_ = too_large;
}

HttpFraming::State HttpFraming::scan(std::string_view bytes) {
  if (state_ != State::kIncomplete) return state_;
  if (header_end_ == 0) scan_headers(bytes);
  if (state_ != State::kIncomplete || header_end_ == 0) return state_;
  switch (body_) {
    case Body::kNone:
      length_ = header_end_;
      state_ = State::kComplete;
      break;
    case Body::kLength:
      if (bytes.size() - header_end_ >= content_length_) {
        length_ = header_end_ + content_length_;
        state_ = State::kComplete;
      }
      break;
    case Body::kChunked:
      scan_chunks(bytes);
      break;
    case Body::kUnknown:
      break;
  }
  return state_;
}

void HttpFraming::scan_headers(std::string_view bytes) {
  while (state_ == State::kIncomplete) {
    const size_t nl = bytes.find('\n', pos_);
    const size_t end = nl == std::string_view::npos ? bytes.size() : nl + 1;
    if (end > limits_.max_header_bytes)
      return fail("the request line and headers are over " + std::to_string(limits_.max_header_bytes) + " bytes");
    if (nl == std::string_view::npos) return;
    const size_t begin = pos_;
    const std::string_view line = bytes.substr(begin, end - begin);
    pos_ = end;
    if (request_line_) {
      request_line_ = false;
      continue;
    }
    if (line == "\r\n") break;
    if (line.size() >= 2 && line[line.size() - 2] == '\r') header_line(begin, line.substr(0, line.size() - 2));
  }
  if (state_ != State::kIncomplete) return;
  header_end_ = pos_;
  if (chunked_ && has_length_) return fail("the request has both Content-Length and Transfer-Encoding");
  if (chunked_) {
    body_ = Body::kChunked;
  } else if (has_length_ && content_length_ > limits_.max_body_bytes) {
    fail("Content-Length " + std::to_string(content_length_) + " is over the limit of " +
             std::to_string(limits_.max_body_bytes) + " bytes",
         true);
  } else {
    body_ = has_length_ && content_length_ > 0 ? Body::kLength : Body::kNone;
  }
}

void HttpFraming::header_line(size_t begin, std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;  // cpp-httplib refuses it (400)
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (iequals(name, "content-length")) {
    const bool digits = !value.empty() && value.size() <= 18 &&
                        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return fail("Content-Length " + shown(value) + " is not a number of bytes");
    const uint64_t n = std::stoull(std::string(value));
    if (has_length_ && n != content_length_) return fail("the request has two different Content-Length headers");
    has_length_ = true;
    content_length_ = n;
  } else if (iequals(name, "transfer-encoding")) {
    if (!iequals(value, "chunked")) return fail("Transfer-Encoding " + shown(value) + " is not supported (only chunked)");
    chunked_ = true;
  } else if (iequals(name, "expect") && value == "100-continue") {
    expect_begin_ = begin;
    expect_end_ = begin + line.size() + 2;
  }
}

void HttpFraming::scan_chunks(std::string_view bytes) {
  const size_t max_raw = limits_.max_header_bytes + 2 * limits_.max_body_bytes + (64 << 10);
  while (state_ == State::kIncomplete) {
    if (pos_ > max_raw) return fail("the chunked body's framing is over " + std::to_string(max_raw) + " bytes");
    if (chunk_left_ > 0) {  // data of the current chunk
      const size_t avail = std::min<uint64_t>(chunk_left_, bytes.size() - pos_);
      pos_ += avail;
      chunk_left_ -= avail;
      decoded_ += avail;
      if (decoded_ > limits_.max_body_bytes)
        return fail("the chunked body is over the limit of " + std::to_string(limits_.max_body_bytes) + " bytes", true);
      if (chunk_left_ > 0) return;
      data_crlf_ = true;
    }
    if (data_crlf_) {
      const std::string_view crlf = bytes.substr(pos_, 2);
      if (crlf != std::string_view("\r\n").substr(0, crlf.size())) return fail("chunk data is not followed by CRLF");
      if (crlf.size() < 2) return;
      pos_ += 2;
      data_crlf_ = false;
    }
    const size_t nl = bytes.find('\n', pos_);
    if (nl == std::string_view::npos) {
      if (bytes.size() - pos_ > kMaxChunkLine) return fail("a chunk-size line is over " + std::to_string(kMaxChunkLine) + " bytes");
      return;
    }
    const std::string_view line = bytes.substr(pos_, nl + 1 - pos_);
    if (last_chunk_) {  // cpp-httplib reads no trailer fields: the blank line must follow
      if (line != "\r\n") return fail("trailer fields after the last chunk are not supported");
      length_ = nl + 1;
      state_ = State::kComplete;
      return;
    }
    if (line.size() < 2 || line[line.size() - 2] != '\r') return fail("a chunk-size line does not end in CRLF");
    size_t digits = 0;
    uint64_t size = 0;
    for (; digits < line.size() && hex_digit(line[digits]) >= 0; ++digits) {
      if (digits == 15) return fail("chunk size " + shown(trim(line.substr(0, line.size() - 2))) + " is too large");
      size = size * 16 + static_cast<uint64_t>(hex_digit(line[digits]));
    }
    const char after = line[digits];
    if (digits == 0 || (after != ';' && after != '\r' && after != ' ' && after != '\t'))
      return fail("chunk size " + shown(line.substr(0, line.size() - 2)) + " is not hexadecimal");
    pos_ = nl + 1;
    if (size == 0) last_chunk_ = true;
    chunk_left_ = size;
  }
}

bool HttpFraming::awaits_continue() const {
  return state_ == State::kIncomplete && header_end_ > 0 && expect_end_ > 0;
}

void HttpFraming::drop_expect_line(std::string& bytes) {
  if (expect_end_ == 0 || header_end_ == 0) return;
  const size_t n = expect_end_ - expect_begin_;
  bytes.erase(expect_begin_, n);
  pos_ -= n;
  header_end_ -= n;
  expect_begin_ = expect_end_ = 0;
}

}  // namespace ptft
