#include "ptft/serve/connection_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ptft {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kAcceptPause{100};  // after EMFILE: no fd for the next client yet

[[noreturn]] void system_failure(const std::string& what) {
  throw std::runtime_error("serve: " + what + " failed: " + std::strerror(errno));
}

PeerAddress address_of(const sockaddr_storage& a) {
  PeerAddress p;
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    p.port = ntohs(v4.sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    p.port = ntohs(v6.sin6_port);
  }
  p.ip = text;
  return p;
}

// One try, never blocking: for the short answers the loop writes itself.
void send_once(int fd, const std::string& bytes) {
  (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

struct ConnectionLoop::Impl {
  enum class Phase { kIdle, kReading, kServing, kLingering };
  struct Conn {
    explicit Conn(const HttpFramingLimits& l) : framing(l) {}
    int fd = -1;
    PeerAddress remote, local;
    std::string buf;
    HttpFraming framing;
    Phase phase = Phase::kIdle;
    Clock::time_point deadline;
    size_t served = 0;
    bool peer_closed = false;
    ClientRequest req;   // while serving
    ServeResult result;  // set by the worker
  };

  Impl(ConnectionLoop& o, int listen, ConnectionLimits l, size_t n, ServeFn s, TimeoutReplyFn r)
      : owner(o), listen_fd(listen), limits(l), n_workers(n), serve(std::move(s)), timeout_reply(std::move(r)) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) system_failure("epoll_create1");
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
      ::close(epfd);
      system_failure("eventfd");
    }
  }
  ~Impl() {
    ::close(epfd);
    ::close(wake_fd);
  }

  void run();
  void loop_once();
  int wait_ms(Clock::time_point now) const;
  void watch(int fd);
  void unwatch(int fd);
  void accept_all(Clock::time_point now);
  Conn* evictable();
  void update_listening(Clock::time_point now);
  void on_readable(Conn& c, Clock::time_point now);
  void frame(Conn& c);
  void dispatch(Conn& c);
  void take_returned(Clock::time_point now);
  void expire(Clock::time_point now);
  void linger(Conn& c, Clock::time_point now);
  void close_conn(Conn& c);
  void begin_stop();
  void worker();
  void finish();

  ConnectionLoop& owner;
  const int listen_fd;
  const ConnectionLimits limits;
  const size_t n_workers;
  const ServeFn serve;
  const TimeoutReplyFn timeout_reply;

  int epfd = -1, wake_fd = -1;
  std::unordered_map<int, std::unique_ptr<Conn>> conns;  // the loop thread's only
  size_t serving = 0;
  bool stop_handled = false;
  bool listening = false;        // listen_fd is in the epoll set
  bool accept_paused = false;    // out of file descriptors: try again at accept_resume
  Clock::time_point accept_resume;
  std::atomic<bool> stopping{false};

  std::mutex mu;  // jobs, returned, workers_done
  std::condition_variable jobs_cv;
  std::deque<Conn*> jobs;
  std::vector<Conn*> returned;
  bool workers_done = false;
  std::vector<std::thread> workers;
};

void ConnectionLoop::Impl::watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) system_failure("epoll_ctl(ADD)");
}

void ConnectionLoop::Impl::unwatch(int fd) { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr); }

void ConnectionLoop::Impl::run() {
  const int flags = fcntl(listen_fd, F_GETFL, 0);
  if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) system_failure("fcntl(O_NONBLOCK)");
  watch(wake_fd);
  update_listening(Clock::now());
  for (size_t i = 0; i < n_workers; ++i) workers.emplace_back([this] { worker(); });
  try {
    while (!(stop_handled && serving == 0)) loop_once();
  } catch (...) {
    finish();  // the workers answer what they hold before the error goes on
    throw;
  }
  finish();
}

void ConnectionLoop::Impl::finish() {
  {
    std::lock_guard<std::mutex> lock(mu);
    workers_done = true;
  }
  jobs_cv.notify_all();
  for (auto& t : workers) t.join();
  workers.clear();
  for (auto& [fd, c] : conns) {
    unwatch(fd);
    ::close(fd);
  }
  conns.clear();
  owner.open_ = 0;
  if (listening) unwatch(listen_fd);
  listening = false;
}

void ConnectionLoop::Impl::loop_once() {
  if (stopping.load() && !stop_handled) begin_stop();
  if (stop_handled && serving == 0) return;
  epoll_event events[64];
  const int n = epoll_wait(epfd, events, 64, wait_ms(Clock::now()));
  if (n < 0 && errno != EINTR) system_failure("epoll_wait");
  const auto now = Clock::now();
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_fd) {
      uint64_t count;
      (void)!::read(wake_fd, &count, sizeof count);
    } else if (fd == listen_fd) {
      if (!stop_handled) accept_all(now);
    } else if (auto it = conns.find(fd); it != conns.end()) {
      on_readable(*it->second, now);
    }
  }
  take_returned(now);
  expire(now);
  update_listening(now);
}

// Accepts while there is room: at max_connections with none to close (make_room), new clients wait
// in the kernel's listen backlog until a connection closes, rather than being refused.
void ConnectionLoop::Impl::update_listening(Clock::time_point now) {
  if (accept_paused && now >= accept_resume) accept_paused = false;
  bool want = !stop_handled && !accept_paused;
  if (want && conns.size() >= limits.max_connections) want = evictable() != nullptr;
  if (want == listening) return;
  if (want) watch(listen_fd);
  else unwatch(listen_fd);
  listening = want;
}

int ConnectionLoop::Impl::wait_ms(Clock::time_point now) const {
  Clock::time_point next = Clock::time_point::max();
  if (accept_paused) next = accept_resume;
  for (const auto& [fd, c] : conns)
    if (c->phase != Phase::kServing && c->deadline < next) next = c->deadline;
  if (next == Clock::time_point::max()) return -1;
  if (next <= now) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
}

void ConnectionLoop::Impl::begin_stop() {
  stop_handled = true;
  update_listening(Clock::now());
  std::vector<Conn*> idle;
  for (auto& [fd, c] : conns)
    if (c->phase != Phase::kServing) idle.push_back(c.get());
  for (Conn* c : idle) close_conn(*c);
}

void ConnectionLoop::stop() {
  impl_->stopping = true;
  const uint64_t one = 1;
  (void)!::write(impl_->wake_fd, &one, sizeof one);
}

void ConnectionLoop::Impl::accept_all(Clock::time_point now) {
  while (true) {
    const bool full = conns.size() >= limits.max_connections;
    if (full && !evictable()) return;  // the rest wait in the backlog
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (Conn* victim = evictable()) {
          close_conn(*victim);
          continue;
        }
        accept_paused = true;  // level-triggered: the waiting client would wake us at once, again and again
        accept_resume = now + kAcceptPause;
      }
      return;
    }
    if (full) close_conn(*evictable());
    auto c = std::make_unique<Conn>(limits.framing);
    c->fd = fd;
    c->remote = address_of(addr);
    sockaddr_storage local{};
    len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) c->local = address_of(local);
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);  // SSE events go out as written
    c->deadline = now + limits.keep_alive_timeout;
    watch(fd);
    conns.emplace(fd, std::move(c));
    ++owner.open_;
  }
}

// The connection to close for a new one: one that waits for nothing of ours — lingering, else the
// one idle longest after a request. nullptr when there is none: requests in progress, and
// connections that have not sent their first one yet, are never cut short.
ConnectionLoop::Impl::Conn* ConnectionLoop::Impl::evictable() {
  Conn* victim = nullptr;
  for (auto& [fd, c] : conns) {
    const bool done = c->phase == Phase::kLingering || (c->phase == Phase::kIdle && c->served > 0);
    if (!done) continue;
    if (!victim || (c->phase == Phase::kLingering && victim->phase != Phase::kLingering) ||
        (c->phase == victim->phase && c->deadline < victim->deadline))
      victim = c.get();
  }
  return victim;
}

void ConnectionLoop::Impl::on_readable(Conn& c, Clock::time_point now) {
  if (c.phase == Phase::kServing) return;
  const size_t cap = limits.framing.max_header_bytes + 2 * limits.framing.max_body_bytes + (128 << 10);
  char tmp[64 << 10];
  while (c.buf.size() <= cap) {
    const ssize_t n = ::recv(c.fd, tmp, sizeof tmp, 0);
    if (n > 0) {
      if (c.phase != Phase::kLingering) c.buf.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) c.peer_closed = true;
    else if (errno == EINTR) continue;
    else if (errno != EAGAIN && errno != EWOULDBLOCK) c.peer_closed = true;  // reset: nothing to answer
    break;
  }
  if (c.phase == Phase::kLingering) {
    if (c.peer_closed) close_conn(c);
    return;
  }
  if (c.phase == Phase::kIdle && !c.buf.empty()) {
    c.phase = Phase::kReading;
    c.deadline = now + limits.request_timeout;
  }
  if (!c.buf.empty()) frame(c);
  if (c.phase != Phase::kServing && c.peer_closed) close_conn(c);
}

void ConnectionLoop::Impl::frame(Conn& c) {
  if (c.framing.scan(c.buf) != HttpFraming::State::kIncomplete) return dispatch(c);
  if (c.framing.awaits_continue()) {
    send_once(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
    c.framing.drop_expect_line(c.buf);
  }
}

void ConnectionLoop::Impl::dispatch(Conn& c) {
  unwatch(c.fd);
  c.phase = Phase::kServing;
  ++serving;
  const bool complete = c.framing.state() == HttpFraming::State::kComplete;
  c.req.fd = c.fd;
  c.req.bytes = complete ? std::string_view(c.buf).substr(0, c.framing.length()) : std::string_view(c.buf);
  c.req.complete = complete;
  c.req.too_large = c.framing.body_too_large();
  c.req.last = !complete || c.peer_closed || stop_handled || c.served + 1 >= limits.max_requests_per_connection;
  c.req.remote = c.remote;
  c.req.local = c.local;
  {
    std::lock_guard<std::mutex> lock(mu);
    jobs.push_back(&c);
  }
  jobs_cv.notify_one();
}

void ConnectionLoop::Impl::worker() {
  while (true) {
    Conn* c = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu);
      jobs_cv.wait(lock, [&] { return workers_done || !jobs.empty(); });
      if (jobs.empty()) return;
      c = jobs.front();
      jobs.pop_front();
    }
    try {
      c->result = serve(c->req);
    } catch (...) {
      c->result = ServeResult{};
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      returned.push_back(c);
    }
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }
}

void ConnectionLoop::Impl::take_returned(Clock::time_point now) {
  std::vector<Conn*> done;
  {
    std::lock_guard<std::mutex> lock(mu);
    done.swap(returned);
  }
  for (Conn* c : done) {
    --serving;
    ++c->served;
    const ServeResult r = c->result;
    const bool keep = r.keep_alive && c->req.complete && !c->req.last && r.consumed == c->req.bytes.size();
    if (stop_handled || (c->peer_closed && !keep)) {
      close_conn(*c);
    } else if (!keep) {
      linger(*c, now);
    } else {
      c->buf.erase(0, r.consumed);
      c->framing = HttpFraming(limits.framing);
      c->phase = c->buf.empty() ? Phase::kIdle : Phase::kReading;
      c->deadline = now + (c->buf.empty() ? limits.keep_alive_timeout : limits.request_timeout);
      watch(c->fd);
      if (!c->buf.empty()) frame(*c);  // the client sent its next request already (pipelining)
    }
  }
}

// The client may still be sending (a body refused before it was read): read and drop it for a
// while, so that closing does not reset the connection before the client has read the answer.
void ConnectionLoop::Impl::linger(Conn& c, Clock::time_point now) {
  unwatch(c.fd);  // watched still when a request timed out; not when it comes back from a worker
  ::shutdown(c.fd, SHUT_WR);
  c.buf.clear();
  c.buf.shrink_to_fit();
  c.phase = Phase::kLingering;
  c.deadline = now + limits.linger_timeout;
  watch(c.fd);
}

void ConnectionLoop::Impl::expire(Clock::time_point now) {
  std::vector<Conn*> due;
  for (auto& [fd, c] : conns)
    if (c->phase != Phase::kServing && c->deadline <= now) due.push_back(c.get());
  for (Conn* c : due) {
    if (c->phase == Phase::kReading) {
      send_once(c->fd, timeout_reply());
      linger(*c, now);
    } else {
      close_conn(*c);
    }
  }
}

void ConnectionLoop::Impl::close_conn(Conn& c) {
  const int fd = c.fd;
  unwatch(fd);
  ::close(fd);
  conns.erase(fd);  // destroys c
  --owner.open_;
}

ConnectionLoop::ConnectionLoop(int listen_fd, ConnectionLimits limits, size_t workers, ServeFn serve,
                               TimeoutReplyFn timeout_reply)
    : impl_(std::make_unique<Impl>(*this, listen_fd, limits, workers == 0 ? 1 : workers, std::move(serve),
                                   std::move(timeout_reply))) {}

ConnectionLoop::~ConnectionLoop() = default;

void ConnectionLoop::run() { impl_->run(); }

}  // namespace ptft
