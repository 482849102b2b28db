// Tests for ptft/serve/connection_loop.h over loopback sockets, with a serve function that echoes
// each request back (no cpp-httplib): whole requests only, keep-alive and pipelining, slow clients
// holding no worker, the timeouts, the connection limit, Expect: 100-continue and stopping.
#include "ptft/serve/connection_loop.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "raw_socket.h"

namespace ptft {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::closed_within;
using testing::connect_to;
using testing::read_for;
using testing::send_all;

std::string response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A loop on 127.0.0.1:<free port> run on its own thread; serve() echoes the request, after
// waiting while hold() is on.
class Loop {
 public:
  explicit Loop(ConnectionLimits limits, size_t workers = 2) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 512), 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    loop_ = std::make_unique<ConnectionLoop>(
        listen_fd_, limits, workers, [this](const ClientRequest& r) { return serve(r); },
        [] { return std::string("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"); });
    thread_ = std::thread([this] { loop_->run(); });
  }
  ~Loop() {
    hold(false);
    stop();
    ::close(listen_fd_);
  }
  void stop() {
    loop_->stop();
    if (thread_.joinable()) thread_.join();
  }
  void hold(bool on) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = on;
    }
    cv_.notify_all();
  }
  std::vector<ClientRequest> served() {
    std::lock_guard<std::mutex> lock(mu_);
    return served_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  int port() const { return port_; }
  ConnectionLoop& loop() { return *loop_; }

 private:
  ServeResult serve(const ClientRequest& r) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      served_.push_back(r);
      bodies_.emplace_back(r.bytes);
      cv_.wait(lock, [&] { return !held_; });
    }
    const std::string out = response(std::string(r.bytes));
    EXPECT_EQ(::send(r.fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
    return {r.bytes.size(), r.complete && !r.last};
  }
  int listen_fd_ = -1, port_ = 0;
  std::unique_ptr<ConnectionLoop> loop_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  std::vector<ClientRequest> served_;
  std::vector<std::string> bodies_;
};

ConnectionLimits fast_limits() {
  ConnectionLimits l;
  l.request_timeout = 400ms;
  l.keep_alive_timeout = 400ms;
  l.linger_timeout = 400ms;
  l.framing = {1024, 1000};
  return l;
}

const std::string kGet = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(ServeConnectionLoop, KeepAliveAndPipelinedRequestsAreServedInOrder) {
  Loop loop(ConnectionLimits{});
  const int fd = connect_to(loop.port());
  send_all(fd, kGet);
  EXPECT_EQ(read_for(fd, 2000ms, response(kGet).size()), response(kGet));
  const std::string post = "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  send_all(fd, post + kGet);  // two requests in one write
  const std::string both = response(post) + response(kGet);
  EXPECT_EQ(read_for(fd, 2000ms, both.size()), both);
  EXPECT_EQ(loop.bodies(), (std::vector<std::string>{kGet, post, kGet}));
  for (const ClientRequest& r : loop.served()) {
    EXPECT_TRUE(r.complete);
    EXPECT_FALSE(r.last);
    EXPECT_EQ(r.remote.ip, "127.0.0.1");
    EXPECT_EQ(r.local.port, loop.port());
  }
  ::close(fd);
}

TEST(ServeConnectionLoop, SlowAndSilentClientsHoldNoWorker) {
  ConnectionLimits l;
  Loop loop(l, /*workers=*/1);
  std::vector<int> slow;
  for (int i = 0; i < 30; ++i) {
    slow.push_back(connect_to(loop.port()));                                    // nothing
    slow.push_back(connect_to(loop.port()));
    send_all(slow.back(), "POST /v1/completions HTTP/1.1\r\nContent-Le");        // half a header
    slow.push_back(connect_to(loop.port()));
    send_all(slow.back(), "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"p");  // half a body
  }
  const int fd = connect_to(loop.port());
  const auto t0 = Clock::now();
  send_all(fd, kGet);
  EXPECT_EQ(read_for(fd, 3000ms, response(kGet).size()), response(kGet));
  EXPECT_LT(Clock::now() - t0, 1000ms);  // the old thread-per-connection server: the 5 s read timeout
  EXPECT_EQ(loop.served().size(), 1u);
  EXPECT_EQ(loop.loop().open_connections(), 91u);
  for (int s : slow) ::close(s);
  ::close(fd);
}

TEST(ServeConnectionLoop, ARequestNotWholeInTimeGets408AndIdleConnectionsClose) {
  Loop loop(fast_limits());
  const int partial = connect_to(loop.port());
  const int idle = connect_to(loop.port());
  send_all(partial, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  bool closed = false;
  const auto t0 = Clock::now();
  EXPECT_EQ(read_for(partial, 3000ms, std::string::npos, &closed).substr(0, 13), "HTTP/1.1 408 ");
  EXPECT_TRUE(closed);
  EXPECT_GE(Clock::now() - t0, 300ms);
  EXPECT_TRUE(closed_within(idle, 3000ms));
  // after a request, the connection waits keep_alive_timeout for the next one, then closes
  const int fd = connect_to(loop.port());
  send_all(fd, kGet);
  EXPECT_EQ(read_for(fd, 2000ms, response(kGet).size()), response(kGet));
  EXPECT_TRUE(closed_within(fd, 3000ms));
  EXPECT_TRUE(loop.served().size() == 1u);
  for (int s : {partial, idle, fd}) ::close(s);
}

TEST(ServeConnectionLoop, AtTheLimitTheLongestIdleConnectionMakesRoomElseNewOnesWait) {
  ConnectionLimits l;
  l.max_connections = 3;
  Loop loop(l, 1);
  std::vector<int> kept;
  for (int i = 0; i < 3; ++i) {  // three connections idle after a request, in this order
    kept.push_back(connect_to(loop.port()));
    send_all(kept.back(), kGet);
    EXPECT_EQ(read_for(kept.back(), 2000ms, response(kGet).size()), response(kGet));
    std::this_thread::sleep_for(20ms);
  }
  const int fresh = connect_to(loop.port());
  send_all(fresh, kGet);
  EXPECT_EQ(read_for(fresh, 2000ms, response(kGet).size()), response(kGet));
  EXPECT_TRUE(closed_within(kept[0], 1000ms));
  EXPECT_FALSE(closed_within(kept[1], 100ms));
  EXPECT_FALSE(closed_within(kept[2], 100ms));
  for (int s : kept) ::close(s);
  ::close(fresh);

  ConnectionLimits one;
  one.max_connections = 1;
  Loop busy(one, 1);
  busy.hold(true);
  const int first = connect_to(busy.port());
  send_all(first, kGet);
  for (int i = 0; i < 200 && busy.served().empty(); ++i) std::this_thread::sleep_for(5ms);
  const int second = connect_to(busy.port());  // in the backlog: the only connection is in service
  send_all(second, kGet);
  EXPECT_EQ(read_for(second, 300ms), "");
  EXPECT_EQ(busy.loop().open_connections(), 1u);
  busy.hold(false);
  EXPECT_EQ(read_for(first, 2000ms, response(kGet).size()), response(kGet));
  // the first is now idle between requests: closed to make room for the second, which is served
  EXPECT_EQ(read_for(second, 2000ms, response(kGet).size()), response(kGet));
  EXPECT_TRUE(closed_within(first, 1000ms));
  EXPECT_EQ(busy.served().size(), 2u);
  ::close(first);
  ::close(second);
}

TEST(ServeConnectionLoop, ExpectContinueIsAnsweredByTheLoopAndNotSeenByTheWorker) {
  Loop loop(ConnectionLimits{});
  const int fd = connect_to(loop.port());
  send_all(fd, "POST /c HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(read_for(fd, 2000ms, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "{}");
  const std::string expected = "POST /c HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(read_for(fd, 2000ms, response(expected).size()), response(expected));
  ::close(fd);
}

TEST(ServeConnectionLoop, AnUnframableRequestIsServedOnceAsTheLastOnTheConnection) {
  Loop loop(fast_limits());
  const int fd = connect_to(loop.port());
  const std::string bad = "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\nbody";
  send_all(fd, bad);
  bool closed = false;
  EXPECT_EQ(read_for(fd, 2000ms, std::string::npos, &closed), response(bad));
  EXPECT_TRUE(closed);
  ASSERT_EQ(loop.served().size(), 1u);
  EXPECT_FALSE(loop.served()[0].complete);
  EXPECT_TRUE(loop.served()[0].last);
  // over the body limit: handed over at once, without waiting for the body
  const int big = connect_to(loop.port());
  send_all(big, "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(read_for(big, 2000ms, 9).substr(0, 9), "HTTP/1.1 ");
  ::close(fd);
  ::close(big);
}

TEST(ServeConnectionLoop, StopAnswersTheRequestInServiceAndClosesTheOthers) {
  Loop loop(ConnectionLimits{});
  loop.hold(true);
  const int serving = connect_to(loop.port());
  const int idle = connect_to(loop.port());
  const int partial = connect_to(loop.port());
  send_all(partial, "GET / HTTP/1.1\r\n");
  send_all(serving, kGet);
  for (int i = 0; i < 200 && loop.served().empty(); ++i) std::this_thread::sleep_for(5ms);
  std::thread stopper([&] { loop.stop(); });
  EXPECT_TRUE(closed_within(idle, 2000ms));
  EXPECT_TRUE(closed_within(partial, 2000ms));
  loop.hold(false);
  bool closed = false;
  EXPECT_EQ(read_for(serving, 2000ms, std::string::npos, &closed), response(kGet));
  EXPECT_TRUE(closed);
  stopper.join();
  EXPECT_EQ(loop.loop().open_connections(), 0u);
  for (int s : {serving, idle, partial}) ::close(s);
}

}  // namespace
}  // namespace ptft
