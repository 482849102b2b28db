// tests/serve/raw_socket.h — a loopback client below HTTP for the serve tests: connect, send
// bytes as they are (half requests, pipelined ones), read what comes back within a time window.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace ptft::testing {

inline int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

inline void send_all(int fd, const std::string& s) {
  EXPECT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// What the server sends within `window`, stopping early once `want` bytes or the end came.
// *closed tells whether the server closed the connection meanwhile.
inline std::string read_for(int fd, std::chrono::milliseconds window, size_t want = std::string::npos, bool* closed = nullptr) {
  std::string got;
  const auto end = std::chrono::steady_clock::now() + window;
  if (closed) *closed = false;
  while (got.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

inline bool closed_within(int fd, std::chrono::milliseconds window) {
  bool closed = false;
  read_for(fd, window, std::string::npos, &closed);
  return closed;
}

}  // namespace ptft::testing
