// e2e: `ptft serve` on a tiny model, used through OpenAI's official JavaScript client (npm
// openai, tests/e2e/openai_client_check.mjs): models, greedy completions (again: the same text,
// and the same as `ptft generate`), streaming, stop strings, chat with the model's template,
// streamed chat, a wrong key (401), a prompt over the context (400); then SIGTERM -> exit 0. And
// what the command refuses: a port in use, a model that is not a language model.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "../common/fetch.h"
#include "run_ptft.h"
#include "tiny_checkpoint.h"

namespace {

using e2e::contains;

const std::string kClientDir = PTFT_SOURCE_DIR "/data/openai-client";

const std::string& client_problem() {
  static const std::string p = ptft::test::fetch_problem(
      "fetch-openai-client.sh", kClientDir,
      [] { return std::filesystem::exists(kClientDir + "/node_modules/openai/package.json"); }, "the openai npm package");
  return p;
}

// A running `ptft serve` (stopped with SIGTERM by stop()).
struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string log;
  e2e::ExitStatus stop() {
    ::kill(pid, SIGTERM);
    return e2e::wait_for(pid, std::chrono::seconds(30));
  }
};

// Starts `ptft serve args... --port 0` and waits for the port it prints.
Server start_server(const e2e::TempDir& tmp, const std::vector<std::string>& args) {
  Server s;
  s.log = tmp.path("serve");
  s.pid = e2e::start_ptft(e2e::concat(e2e::concat({"serve"}, args), {"--port", "0", "--threads", "1"}), s.log);
  const std::regex listening(R"(on http://127\.0\.0\.1:(\d+)/v1)");
  e2e::wait_until([&] {
    std::smatch m;
    const std::string err = e2e::read_text(s.log + ".err");
    if (std::regex_search(err, m, listening)) s.port = std::stoi(m[1]);
    return s.port > 0 || ::waitpid(s.pid, nullptr, WNOHANG) != 0;
  });
  return s;
}

TEST(ServeE2E, OpenAiClientCompletionsChatStreamingAndErrors) {
  ASSERT_TRUE(client_problem().empty()) << client_problem();
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  Server s = start_server(tmp, {"--model", ckpt, "--api-key", "sk-test", "--template", "ptft-chat"});
  ASSERT_GT(s.port, 0) << e2e::read_text(s.log + ".err");

  int status = 0;
  const std::string out = ptft::test::run_command(
      "NODE_PATH='" + kClientDir + "/node_modules' node '" PTFT_SOURCE_DIR "/tests/e2e/openai_client_check.mjs' "
      "http://127.0.0.1:" + std::to_string(s.port) + "/v1 sk-test 2>'" + tmp.path("client.err") + "'",
      &status);
  const e2e::ExitStatus stopped = s.stop();
  ASSERT_EQ(status, 0) << out << e2e::read_text(tmp.path("client.err")) << e2e::read_text(s.log + ".err");
  EXPECT_EQ(stopped.exit_code, 0) << "SIGTERM: the server ends its work and exits 0\n" << e2e::read_text(s.log + ".err");
  const nlohmann::json r = nlohmann::json::parse(out);

  EXPECT_EQ(r["models"], nlohmann::json::array({"run"}));
  const std::string text = r["completion"]["text"];
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(r["completion2"]["text"], text) << "temperature 0 is greedy: the same text twice";
  EXPECT_EQ(r["stream"]["text"], text) << "streamed pieces add up to the completion";
  EXPECT_GE(r["stream"]["chunks"].get<int>(), 2);
  EXPECT_EQ(r["stream"]["finish_reason"], r["completion"]["finish_reason"]);
  const auto& usage = r["completion"]["usage"];
  EXPECT_GT(usage["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(usage["total_tokens"].get<int>(), usage["prompt_tokens"].get<int>() + usage["completion_tokens"].get<int>());
  if (r.contains("stop")) {
    const std::string stop = r["stop"]["stop"];
    EXPECT_EQ(r["stop"]["finish_reason"], "stop");
    EXPECT_FALSE(contains(r["stop"]["text"].get<std::string>(), stop));
    EXPECT_EQ(text.rfind(r["stop"]["text"].get<std::string>(), 0), 0u) << "the stopped text is the completion's start";
  }
  EXPECT_EQ(r["chat"]["role"], "assistant");
  EXPECT_EQ(r["chat_stream"]["content"], r["chat"]["content"]);
  EXPECT_EQ(r["chat_stream"]["first_role"], "assistant");
  EXPECT_EQ(r["wrong_key"]["status"], 401);
  EXPECT_EQ(r["too_long"]["status"], 400);

  // The same greedy text as `ptft generate`.
  auto gen = e2e::run_ptft({"generate", "--model", ckpt, "--prompt", "This License applies to", "--temperature", "0",
                            "--max-new-tokens", "8", "--threads", "1"});
  ASSERT_EQ(gen.exit_code, 0) << gen.text();
  EXPECT_EQ(gen.out, text);
}

TEST(ServeE2E, RefusesAPortInUseAndAModelThatIsNotALanguageModel) {
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  Server first = start_server(tmp, {"--model", ckpt});
  ASSERT_GT(first.port, 0) << e2e::read_text(first.log + ".err");
  auto second = e2e::run_ptft({"serve", "--model", ckpt, "--port", std::to_string(first.port), "--threads", "1"});
  first.stop();
  EXPECT_EQ(second.exit_code, 1) << second.text();
  EXPECT_TRUE(contains(second.err, std::to_string(first.port))) << second.err;
  EXPECT_TRUE(contains(second.err, "--port")) << second.err;

  auto mlp = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("mlp"), {"train.steps=2"}));
  ASSERT_EQ(mlp.exit_code, 0) << mlp.text();
  for (const std::string command : {"serve", "generate"}) {
    auto not_lm = e2e::run_ptft({command, "--model", tmp.path("mlp"), command == "serve" ? "--port=0" : "--prompt=x"});
    EXPECT_EQ(not_lm.exit_code, 1) << not_lm.text();
    EXPECT_TRUE(contains(not_lm.err, command + " needs a causal language model")) << not_lm.err;
    EXPECT_TRUE(contains(not_lm.err, "which does not write text")) << not_lm.err;
    EXPECT_FALSE(contains(not_lm.err, "tokenizer")) << not_lm.err;
  }
}

}  // namespace
