// `ptft generate` and `ptft chat` end to end, on a small GPT pre-trained by the real binary:
// streamed text, seeds, --json, prompts longer than the context, chat templates, piped stdin,
// and the errors a user meets first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "run_ptft.h"
#include "tiny_checkpoint.h"

namespace {
using e2e::contains;

std::vector<std::string> generate_args(const std::string& model, const std::string& prompt,
                                       const std::vector<std::string>& more = {}) {
  return e2e::concat({"generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "20", "--threads", "1"},
                     more);
}

TEST(GenerateE2E, StreamsTextSameSeedSameTextJsonAndErrors) {
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));

  auto a = e2e::run_ptft(generate_args(ckpt, "This License", {"--seed", "5"}));
  ASSERT_EQ(a.exit_code, 0) << a.text();
  EXPECT_FALSE(a.out.empty()) << a.text();
  EXPECT_TRUE(contains(a.err, "tokens/s")) << a.err;
  auto b = e2e::run_ptft(generate_args(ckpt, "This License", {"--seed", "5"}));
  ASSERT_EQ(b.exit_code, 0) << b.text();
  EXPECT_EQ(a.out, b.out);
  // The run directory stands for its best (else last) checkpoint.
  auto from_run = e2e::run_ptft(generate_args(tmp.path("run"), "This License", {"--seed", "5"}));
  ASSERT_EQ(from_run.exit_code, 0) << from_run.text();
  EXPECT_EQ(from_run.out, a.out);

  // --json: one object with the streamed text.
  auto j = e2e::run_ptft(generate_args(ckpt, "This License", {"--seed", "5", "--json"}));
  ASSERT_EQ(j.exit_code, 0) << j.text();
  const auto obj = nlohmann::json::parse(j.out);
  for (const char* key : {"prompt", "text", "tokens", "stop_reason", "tokens_per_second"})
    EXPECT_TRUE(obj.contains(key)) << key << " missing in " << j.out;
  EXPECT_EQ(obj["prompt"], "This License");
  EXPECT_EQ(obj["text"].get<std::string>(), a.out);
  EXPECT_LE(obj["tokens"].get<int>(), 20);
  EXPECT_GT(obj["tokens_per_second"].get<double>(), 0.0);
  const std::string reason = obj["stop_reason"];
  EXPECT_TRUE(reason == "max_new_tokens" || reason == "eot") << reason;

  // The model exported as a Hugging Face directory writes the same text.
  auto exp = e2e::run_ptft({"export", "--model", ckpt, "--out", tmp.path("hf")});
  ASSERT_EQ(exp.exit_code, 0) << exp.text();
  auto from_hf = e2e::run_ptft(generate_args(tmp.path("hf"), "This License", {"--seed", "5"}));
  ASSERT_EQ(from_hf.exit_code, 0) << from_hf.text();
  EXPECT_EQ(from_hf.out, a.out);

  // --prompt-file reads the same prompt.
  e2e::write_text(tmp.path("prompt.txt"), "This License");
  auto f = e2e::run_ptft({"generate", "--model", ckpt, "--prompt-file", tmp.path("prompt.txt"), "--max-new-tokens",
                          "20", "--seed", "5", "--threads", "1"});
  ASSERT_EQ(f.exit_code, 0) << f.text();
  EXPECT_EQ(f.out, a.out);

  // A prompt longer than the model's context.
  const std::string long_prompt = e2e::read_text(e2e::kGpl).substr(0, 2000);
  auto too_long = e2e::run_ptft(generate_args(ckpt, long_prompt));
  EXPECT_EQ(too_long.exit_code, 1) << too_long.text();
  EXPECT_TRUE(contains(too_long.err, "tokens, model context is " + std::to_string(e2e::kTinyContext))) << too_long.err;
  EXPECT_TRUE(contains(too_long.err, "--truncate-prompt")) << too_long.err;
  auto truncated = e2e::run_ptft(generate_args(ckpt, long_prompt, {"--truncate-prompt"}));
  EXPECT_EQ(truncated.exit_code, 0) << truncated.text();
  EXPECT_TRUE(contains(truncated.err, "kept its last")) << truncated.err;

  // Bad input: a missing model, a bad option value, no prompt.
  auto missing = e2e::run_ptft(generate_args(tmp.path("no-such-run"), "x"));
  EXPECT_EQ(missing.exit_code, 1) << missing.text();
  EXPECT_TRUE(contains(missing.err, tmp.path("no-such-run"))) << missing.err;
  auto bad_p = e2e::run_ptft(generate_args(ckpt, "x", {"--top-p", "1.5"}));
  EXPECT_EQ(bad_p.exit_code, 1) << bad_p.text();
  EXPECT_TRUE(contains(bad_p.err, "--top-p")) << bad_p.err;
  auto no_prompt = e2e::run_ptft({"generate", "--model", ckpt});
  EXPECT_EQ(no_prompt.exit_code, 1) << no_prompt.text();
  EXPECT_TRUE(contains(no_prompt.err, "--prompt")) << no_prompt.err;
}

// --dtype bf16: decode steps read bfloat16 copies of the weights. The greedy ids stay close to
// f32's (a tiny model's logits move by bf16 rounding: the first token equal), and the bad values
// are user errors.
TEST(GenerateE2E, Bf16DecodeWeights) {
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  auto f32 = e2e::run_ptft(generate_args(ckpt, "This License", {"--temperature", "0", "--json", "--dtype", "f32"}));
  ASSERT_EQ(f32.exit_code, 0) << f32.text();
  auto bf16 = e2e::run_ptft(generate_args(ckpt, "This License", {"--temperature", "0", "--json", "--dtype", "bf16"}));
  ASSERT_EQ(bf16.exit_code, 0) << bf16.text();
  const auto a = nlohmann::json::parse(f32.out), b = nlohmann::json::parse(bf16.out);
  ASSERT_FALSE(a["ids"].empty());
  ASSERT_FALSE(b["ids"].empty());
  EXPECT_EQ(a["ids"][0], b["ids"][0]) << f32.out << "\n" << bf16.out;
  EXPECT_EQ(a["dtype"], "f32");
  EXPECT_EQ(b["dtype"], "bf16");
  // The default, auto: bf16 where the CPU multiplies bf16 pairs (avx512_bf16), else f32 — the
  // same ids as the run of the type it names.
  auto dflt = e2e::run_ptft(generate_args(ckpt, "This License", {"--temperature", "0", "--json"}));
  ASSERT_EQ(dflt.exit_code, 0) << dflt.text();
  const auto d = nlohmann::json::parse(dflt.out);
  const bool bf16_pairs = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");  // nn::bf16_gemv's test
  EXPECT_EQ(d["dtype"], bf16_pairs ? "bf16" : "f32") << dflt.out;
  EXPECT_EQ(d["ids"], d["dtype"] == "bf16" ? b["ids"] : a["ids"]) << dflt.out;
  auto bad = e2e::run_ptft(generate_args(ckpt, "x", {"--dtype", "f16"}));
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_TRUE(contains(bad.err, "--dtype must be auto, f32 or bf16, got 'f16'")) << bad.err;
}

TEST(GenerateE2E, ChatFlagAnswersOneMessageAsChatDoes) {
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  const std::vector<std::string> greedy = {"--model", ckpt, "--max-new-tokens", "12", "--temperature", "0", "--threads", "1"};
  const std::vector<std::string> tmpl = {"--template", "ptft-chat", "--system", "Answer briefly."};

  auto one = e2e::run_ptft(e2e::concat(e2e::concat({"generate", "--chat", "--prompt", "What is a licence?"}, tmpl), greedy));
  ASSERT_EQ(one.exit_code, 0) << one.text();
  // The same answer as the first turn of `chat` (which ends it with a newline)...
  e2e::write_text(tmp.path("in.txt"), "What is a licence?\n");
  auto chat = e2e::run_ptft_with_stdin(e2e::concat(e2e::concat({"chat"}, tmpl), greedy), tmp.path("in.txt"), tmp);
  ASSERT_EQ(chat.exit_code, 0) << chat.text();
  EXPECT_EQ(one.out + "\n", chat.out);
  // ... and as a plain continuation of the rendered template that stops at the end of the turn.
  auto plain = e2e::run_ptft(e2e::concat(
      {"generate", "--prompt", "<|system|>\nAnswer briefly.\n<|user|>\nWhat is a licence?\n<|assistant|>\n", "--stop",
       "<|endoftext|>\n"},
      greedy));
  ASSERT_EQ(plain.exit_code, 0) << plain.text();
  EXPECT_EQ(one.out, plain.out);

  // Without a template, and chat options without --chat: what to do about it.
  auto none = e2e::run_ptft(e2e::concat({"generate", "--chat", "--prompt", "Hi"}, greedy));
  EXPECT_EQ(none.exit_code, 1) << none.text();
  EXPECT_TRUE(contains(none.err, "no chat template")) << none.err;
  auto stray = e2e::run_ptft(e2e::concat({"generate", "--prompt", "Hi", "--system", "Be brief."}, greedy));
  EXPECT_EQ(stray.exit_code, 1) << stray.text();
  EXPECT_TRUE(contains(stray.err, "--chat")) << stray.err;
}

TEST(GenerateE2E, ChatReadsLinesUntilEndOfInput) {
  e2e::TempDir tmp;
  std::string ckpt;
  ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));
  e2e::write_text(tmp.path("in.txt"), "What is a licence?\n\nWho may copy the Program?\n");
  const std::vector<std::string> chat = {"chat", "--max-new-tokens", "12", "--threads", "1"};

  // Without a template: what to do about it.
  auto none = e2e::run_ptft_with_stdin(e2e::concat(chat, {"--model", ckpt}), tmp.path("in.txt"), tmp);
  EXPECT_EQ(none.exit_code, 1) << none.text();
  EXPECT_TRUE(contains(none.err, "no chat template")) << none.err;
  EXPECT_TRUE(contains(none.err, "--template ptft-chat")) << none.err;

  // A built-in template by name; two answers, each ended by a newline; no prompt marker when
  // stdin is not a terminal.
  auto named = e2e::run_ptft_with_stdin(e2e::concat(chat, {"--model", ckpt, "--template", "ptft-chat", "--system",
                                                      "Answer briefly."}),
                                   tmp.path("in.txt"), tmp);
  ASSERT_EQ(named.exit_code, 0) << named.text();
  ASSERT_FALSE(named.out.empty());
  EXPECT_EQ(named.out.back(), '\n');
  EXPECT_FALSE(contains(named.err, "> ")) << named.err;

  // The template a fine-tuned checkpoint carries in config.json.
  const std::string chat_ckpt = tmp.path("chat-ckpt");
  e2e::sfs::copy(ckpt, chat_ckpt, e2e::sfs::copy_options::recursive);
  auto cfg = e2e::read_json(chat_ckpt + "/config.json");
  cfg["ptft"]["chat_template"] = {{"name", "ptft-chat"},
                                  {"system", "<|system|>\n{content}\n"},
                                  {"user", "<|user|>\n{content}\n"},
                                  {"assistant", "<|assistant|>\n{content}"},
                                  {"assistant_end", "<|endoftext|>\n"}};
  e2e::write_text(chat_ckpt + "/config.json", cfg.dump(2));
  auto own = e2e::run_ptft_with_stdin(e2e::concat(chat, {"--model", chat_ckpt}), tmp.path("in.txt"), tmp);
  ASSERT_EQ(own.exit_code, 0) << own.text();
  auto by_name = e2e::run_ptft_with_stdin(e2e::concat(chat, {"--model", ckpt, "--template", "ptft-chat"}),
                                     tmp.path("in.txt"), tmp);
  ASSERT_EQ(by_name.exit_code, 0) << by_name.text();
  EXPECT_EQ(own.out, by_name.out);
  EXPECT_GE(std::count(own.out.begin(), own.out.end(), '\n'), 2) << "two answers, each ended by a newline";

  // Conversations longer than the context lose their oldest turns, and say so.
  std::string many;
  for (int i = 0; i < 6; ++i) many += "Tell me about the Program and its source code.\n";
  std::string huge = e2e::read_text(e2e::kGpl).substr(0, 1500);
  std::replace(huge.begin(), huge.end(), '\n', ' ');
  many += huge + "\nAnd then?\n";
  e2e::write_text(tmp.path("many.txt"), many);
  auto longer = e2e::run_ptft_with_stdin(e2e::concat(chat, {"--model", chat_ckpt}), tmp.path("many.txt"), tmp);
  ASSERT_EQ(longer.exit_code, 0) << longer.text();
  EXPECT_TRUE(contains(longer.err, "dropped the oldest")) << longer.err;
  // A message that cannot fit is reported and skipped; the conversation goes on.
  EXPECT_TRUE(contains(longer.err, "write a shorter message")) << longer.err;
}

}  // namespace
