// Tests for ptft/serve/api_server.h over loopback sockets: an ephemeral port, httplib clients,
// the EchoEngine double (held to fill the queue or to stop the server mid-request).
#include "ptft/serve/api_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "echo_engine.h"
#include "raw_socket.h"
#include "ptft/core/error.h"
#include "ptft/core/signals.h"
#include "ptft/serve/signal_stop.h"

namespace ptft {
namespace {

using nlohmann::json;
using testing::EchoEngine;

// A server on 127.0.0.1:<free port>, run on its own thread, stopped and joined at the end.
class Running {
 public:
  Running(EchoEngine& engine, ServeOptions o) : server_(engine, prepare(o)) {
    server_.bind();
    thread_ = std::thread([this] { server_.run(); });
  }
  ~Running() { shutdown(); }
  void shutdown() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return server_.bound_port(); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(10, 0);
    return c;
  }
  ApiServer& server() { return server_; }

 private:
  static ServeOptions prepare(ServeOptions o) {
    o.port = 0;
    return o;
  }
  ApiServer server_;
  std::thread thread_;
};

ServeOptions options() {
  ServeOptions o;
  o.max_tokens_limit = 50;
  return o;
}

std::string completion_body(const std::string& prompt, bool stream = false) {
  return json{{"prompt", prompt}, {"stream", stream}, {"temperature", 0}}.dump();
}

TEST(ServeApiServer, CompletionChatAndStreamsOverHttp) {
  EchoEngine e;
  Running s(e, options());
  EXPECT_GT(s.port(), 0);
  httplib::Client c = s.client();

  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");

  auto r = c.Post("/v1/completions", completion_body("one two"), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(r->body)["choices"][0]["text"], " one two");

  auto chat = c.Post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "hi"}]})", "application/json");
  ASSERT_TRUE(chat);
  EXPECT_EQ(json::parse(chat->body)["choices"][0]["message"]["content"], " user: hi assistant:");

  auto stream = c.Post("/v1/completions", completion_body("one two", true), "application/json");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status, 200);
  EXPECT_EQ(stream->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(stream->body.substr(0, 6), "data: ");
  EXPECT_NE(stream->body.find("\"text\":\" two\""), std::string::npos) << stream->body;
  EXPECT_EQ(stream->body.substr(stream->body.size() - 14), "data: [DONE]\n\n");

  auto chat_stream = c.Post("/v1/chat/completions",
                            R"({"messages": [{"role": "user", "content": "hi"}], "stream": true})", "application/json");
  ASSERT_TRUE(chat_stream);
  EXPECT_NE(chat_stream->body.find("\"delta\":{\"content\":\"\",\"role\":\"assistant\"}"), std::string::npos)
      << chat_stream->body;
  EXPECT_NE(chat_stream->body.find("\"finish_reason\":\"stop\""), std::string::npos);
}

TEST(ServeApiServer, ErrorsHaveOpenAiBodies) {
  EchoEngine e;
  ServeOptions o = options();
  o.api_key = "k1";
  o.max_body_bytes = 1000;
  o.log_requests = true;  // exercised; the lines go to stderr
  Running s(e, o);
  httplib::Client c = s.client();
  auto error_of = [](const httplib::Result& r, int status) {
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body);
    EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
    return j["error"];
  };

  EXPECT_EQ(error_of(c.Get("/v1/models"), 401)["code"], "invalid_api_key");
  EXPECT_EQ(error_of(c.Get("/v1/models", {{"Authorization", "Bearer nope"}}), 401)["code"], "invalid_api_key");
  const httplib::Headers auth = {{"Authorization", "Bearer k1"}};
  auto models = c.Get("/v1/models", auth);
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "echo-test");

  error_of(c.Post("/v1/completions", auth, std::string(2000, 'x'), "application/json"), 413);
  error_of(c.Get("/nowhere", auth), 404);
  EXPECT_EQ(error_of(c.Post("/v1/completions", auth, R"({"prompt": "x", "n": 3})", "application/json"), 400)["param"],
            "n");
  e.throw_internal = true;
  EXPECT_EQ(error_of(c.Post("/v1/completions", auth, completion_body("x"), "application/json"), 500)["type"],
            "server_error");
  e.throw_internal = false;
  auto after = c.Post("/v1/completions", auth, completion_body("still up"), "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);  // the server survived
}

TEST(ServeApiServer, AFullQueueAnswers503AndTheQueuedOnesComplete) {
  EchoEngine e;
  e.hold();
  ServeOptions o = options();
  o.max_queue = 1;
  Running s(e, o);
  std::atomic<int> ok{0};
  auto send = [&](const std::string& prompt) {
    httplib::Client c = s.client();
    auto r = c.Post("/v1/completions", completion_body(prompt), "application/json");
    if (r && r->status == 200 && json::parse(r->body)["choices"][0]["text"] == " " + prompt) ++ok;
  };
  std::thread running(send, "first");
  ASSERT_TRUE(e.wait_for([&] { return e.started == 1; }));
  std::thread waiting(send, "second");
  ASSERT_TRUE(s.server().handler().queue().wait_until_waiting(1, std::chrono::milliseconds(5000)));

  httplib::Client c = s.client();
  auto busy = c.Post("/v1/completions", completion_body("third"), "application/json");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(json::parse(busy->body)["error"]["type"], "server_error");
  auto health = c.Get("/health");  // spare threads still answer
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  e.release();
  running.join();
  waiting.join();
  EXPECT_EQ(ok, 2);
}

TEST(ServeApiServer, ConcurrentClientsAreServedOneAtATimeAndAllCorrectly) {
  EchoEngine e;
  ServeOptions o = options();
  o.max_queue = 8;
  Running s(e, o);
  constexpr int kThreads = 8, kRequests = 10;
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c = s.client();
      for (int i = 0; i < kRequests; ++i) {
        const std::string prompt = "client" + std::to_string(t) + " request" + std::to_string(i);
        const bool stream = i % 2 == 1;
        auto r = c.Post("/v1/completions", completion_body(prompt, stream), "application/json");
        if (!r || r->status != 200) continue;
        const bool right = stream ? r->body.find("\"text\":\" request" + std::to_string(i) + "\"") != std::string::npos &&
                                        r->body.find("\"text\":\" client" + std::to_string(t) + "\"") != std::string::npos
                                  : json::parse(r->body)["choices"][0]["text"] == " " + prompt;
        if (right) ++correct;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(correct, kThreads * kRequests);
  EXPECT_EQ(e.max_active, 1);
  EXPECT_EQ(e.started, kThreads * kRequests);
}

// Sends a streaming request on a raw socket, reads the first event, and hangs up.
void hang_up_mid_stream(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string body = completion_body("tick", true);
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  std::string got;
  char buf[256];
  while (got.find("data: ") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, size_t(n));
  }
  ::close(fd);
}

TEST(ServeApiServer, AClientThatHangsUpMidStreamCancelsTheGeneration) {
  EchoEngine e;
  e.repeat = 1000000;  // endless unless cancelled
  ServeOptions o = options();
  o.max_tokens_limit = 1000000;
  Running s(e, o);
  hang_up_mid_stream(s.port());
  EXPECT_TRUE(e.wait_for([&] { return e.cancelled && e.active == 0; }));
  httplib::Client c = s.client();
  auto next = c.Post("/v1/completions", completion_body("next"), "application/json");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);  // the engine is free again
}

TEST(ServeApiServer, StopLetsTheRunningRequestFinish) {
  EchoEngine e;
  e.hold();
  ApiServer server(e, [] {
    ServeOptions o = options();
    o.port = 0;
    return o;
  }());
  server.bind();
  std::atomic<bool> returned{false};
  std::thread run([&] {
    server.run();
    returned = true;
  });
  int status = 0;
  std::string body;
  std::thread client([&] {
    httplib::Client c("127.0.0.1", server.bound_port());
    if (auto r = c.Post("/v1/completions", completion_body("last words"), "application/json")) {
      status = r->status;
      body = r->body;
    }
  });
  ASSERT_TRUE(e.wait_for([&] { return e.started == 1; }));
  server.stop();
  EXPECT_FALSE(returned);  // the request holds it
  e.release();
  client.join();
  run.join();
  EXPECT_TRUE(returned);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(json::parse(body)["choices"][0]["text"], " last words");
  httplib::Client late("127.0.0.1", server.bound_port());
  EXPECT_FALSE(late.Get("/health"));  // no longer listening
}

TEST(ServeApiServer, StopBeforeRunAndSignals) {
  EchoEngine e;
  ServeOptions o = options();
  o.port = 0;
  {
    ApiServer server(e, o);
    server.stop();
    server.run();  // returns at once
  }
  ApiServer server(e, o);
  server.bind();
  int sig = -1;
  std::thread run([&] { sig = run_until_signal(server); });
  httplib::Client c("127.0.0.1", server.bound_port());
  auto up = c.Get("/health");
  ASSERT_TRUE(up);
  StopSignals::raise_for_test(SIGTERM);
  run.join();
  EXPECT_EQ(sig, SIGTERM);
  StopSignals::reset();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

// Requests written by hand on a raw socket: chunked bodies, Expect: 100-continue, slow clients.
TEST(ServeApiServer, ChunkedBodiesExpectContinueAndSlowClientsOverRawSockets) {
  using namespace std::chrono_literals;
  EchoEngine e;
  ServeOptions o = options();
  o.max_body_bytes = 200;
  o.max_queue = 0;  // 5 server threads
  Running s(e, o);
  const std::string body = completion_body("chunked words");
  auto chunked = [](const std::string& b) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", b.size());
    return "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size) +
           "\r\n" + b + "\r\n0\r\n\r\n";
  };
  int fd = testing::connect_to(s.port());
  testing::send_all(fd, chunked(body));
  std::string reply = testing::read_for(fd, 5000ms, std::string::npos);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 200") << reply;
  EXPECT_NE(reply.find("chunked words"), std::string::npos) << reply;
  ::close(fd);

  fd = testing::connect_to(s.port());  // over the limit when chunked: 413, as with Content-Length
  testing::send_all(fd, chunked(std::string(300, 'x')));
  reply = testing::read_for(fd, 5000ms);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 413") << reply;
  EXPECT_NE(reply.find("\"request_too_large\""), std::string::npos) << reply;
  EXPECT_NE(reply.find("limit of 200 bytes"), std::string::npos) << reply;
  ::close(fd);

  fd = testing::connect_to(s.port());  // one interim answer, from the server's loop, then the reply
  testing::send_all(fd, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(testing::read_for(fd, 5000ms, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  testing::send_all(fd, body);
  reply = testing::read_for(fd, 5000ms);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 200") << reply;
  EXPECT_EQ(reply.find("100 Continue"), std::string::npos) << reply;
  ::close(fd);

  // 60 clients that send nothing or half a request, against 5 threads: /health still answers at
  // once (the thread-per-connection server took its 5 s read timeout per wave of them)
  std::vector<int> slow;
  for (int i = 0; i < 30; ++i) {
    slow.push_back(testing::connect_to(s.port()));
    slow.push_back(testing::connect_to(s.port()));
    testing::send_all(slow.back(), "POST /v1/completions HTTP/1.1\r\nContent-Le");
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto health = s.client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  for (int fd_slow : slow) ::close(fd_slow);
}

TEST(ServeApiServer, APortInUseIsAUserErrorNamingTheAddressAndTheFix) {
  EchoEngine e;
  Running first(e, options());
  ServeOptions o = options();
  o.port = first.port();
  ApiServer second(e, o);
  try {
    second.bind();
    FAIL() << "bound a port in use";
  } catch (const UserError& err) {
    EXPECT_NE(err.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << err.message();
    EXPECT_NE(err.hint().find("--port"), std::string::npos);
  }
  o.port = 70000;
  EXPECT_THROW(ApiServer(e, o), UserError);
  // the connection limits: out of range is a UserError naming the flag
  auto refused = [](ServeOptions bad) {
    try {
      bad.validate();
    } catch (const UserError& err) {
      return err.message() + " | " + err.hint();
    }
    return std::string("accepted");
  };
  ServeOptions none = options();
  none.max_connections = 0;
  EXPECT_NE(refused(none).find("--max-connections in 1..65536"), std::string::npos) << refused(none);
  ServeOptions slow = options();
  slow.request_timeout_s = 0;
  EXPECT_NE(refused(slow).find("--request-timeout in 1..3600"), std::string::npos) << refused(slow);
  EXPECT_EQ(refused(options()), "accepted");
}

}  // namespace
}  // namespace ptft
