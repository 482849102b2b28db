// Generation (ptft/infer/generate.h): the KV-cache generator against full recomputation,
// sampling options (greedy, top-k, top-p, seeds), stop strings, prompts longer than the
// context, the context end, and text streamed in whole UTF-8 characters.
#include "ptft/infer/generate.h"

#include <gtest/gtest.h>

#include "../../src/tokenizer/utf8_check.h"
#include "ptft/core/error.h"
#include "ptft/infer/text_stream.h"
#include "ptft/models/mlp.h"
#include "tiny_lm.h"

namespace ptft {
namespace {

using Ids = std::vector<int32_t>;
constexpr int64_t kContext = 32;
constexpr int64_t kExtraIds = 7;  // model ids beyond the tokenizer's: never generated

struct Fixture {
  TokenizerPtr tok = test::tiny_tokenizer();
  std::shared_ptr<GptImpl> gpt = test::tiny_gpt(tok->vocab_size() + kExtraIds, kContext);
  Generator gen{gpt, tok, "'tiny'"};
};

SamplingOptions greedy(int64_t n) {
  SamplingOptions o;
  o.temperature = 0;
  o.max_new_tokens = n;
  return o;
}

SamplingOptions sampled(int64_t n, uint64_t seed) {
  SamplingOptions o = greedy(n);
  o.temperature = 1.0;
  o.seed = seed;
  return o;
}

// Greedy decoding by recomputing the whole sequence at every step (no cache).
Ids greedy_by_recomputation(GptImpl& m, const Tokenizer& tok, Ids seq, int64_t n) {
  torch::NoGradGuard ng;
  Ids out;
  for (int64_t i = 0; i < n; ++i) {
    auto ids = torch::tensor(std::vector<int64_t>(seq.begin(), seq.end()), torch::kLong).unsqueeze(0);
    auto logits = m.forward({{"input_ids", ids}}).at("logits")[0][-1];  // (V)
    const auto next = static_cast<int32_t>(logits.slice(0, 0, tok.vocab_size()).argmax().item<int64_t>());
    if (next == tok.eot_id()) break;
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

bool valid_utf8(const std::string& s) { return utf8::first_invalid(s) == std::string::npos; }

TEST(Generate, GreedyWithKvCacheEqualsFullRecomputation) {
  Fixture f;
  const Ids prompt = f.tok->encode("This License");
  const GenerateResult r = f.gen.generate_ids(prompt, greedy(20));
  EXPECT_EQ(r.ids, greedy_by_recomputation(*f.gpt, *f.tok, prompt, 20));
  EXPECT_FALSE(r.ids.empty());
  EXPECT_EQ(r.prompt_tokens, static_cast<int64_t>(prompt.size()));
  EXPECT_EQ(r.text, f.tok->decode(r.ids));
}

TEST(Generate, TopK1AndTinyTopPAreGreedy) {
  Fixture f;
  const GenerateResult g = f.gen.generate("the Program", greedy(15));
  SamplingOptions k1 = sampled(15, 99);
  k1.top_k = 1;
  EXPECT_EQ(f.gen.generate("the Program", k1).ids, g.ids);
  SamplingOptions p = sampled(15, 5);
  p.top_p = 1e-6;
  EXPECT_EQ(f.gen.generate("the Program", p).ids, g.ids);
}

TEST(Generate, SameSeedSameTokensOtherSeedDiffers) {
  Fixture f;
  SamplingOptions o = sampled(20, 1);
  const GenerateResult a = f.gen.generate("copyright", o);
  torch::manual_seed(12345);  // the global generator must not matter
  const GenerateResult b = f.gen.generate("copyright", o);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.text, b.text);
  o.seed = 2;
  EXPECT_NE(f.gen.generate("copyright", o).ids, a.ids);
  // Sampling differs from greedy decoding (20 tokens over 400 almost uniform choices).
  EXPECT_NE(f.gen.generate("copyright", greedy(20)).ids, a.ids);
}

TEST(Generate, IdsBeyondTheTokenizerAreNeverSampled) {
  Fixture f;
  // A logit far above the others on an id the tokenizer cannot decode.
  auto logits = torch::zeros({10});
  logits[9] = 100.0;
  SamplingOptions o;
  o.temperature = 0;
  EXPECT_EQ(Sampler(o).sample(logits, 10), 9);
  EXPECT_NE(Sampler(o).sample(logits, 9), 9);
  o.temperature = 1.0;
  Sampler s(o);
  for (int i = 0; i < 50; ++i) EXPECT_LT(s.sample(logits, 9), 9);
}

TEST(Generate, StopStringCutsTheText) {
  Fixture f;
  SamplingOptions o = sampled(24, 3);
  const GenerateResult full = f.gen.generate("Program", o);
  ASSERT_EQ(full.stop_reason, "max_new_tokens");
  ASSERT_GE(full.text.size(), 8u) << full.text;
  // A stop string from the middle of the text (two characters): the text ends right before its
  // first occurrence, and no piece handed out contains any part of it.
  std::size_t mid = full.text.size() / 2;
  while (mid > 0 && (static_cast<unsigned char>(full.text[mid]) & 0xC0) == 0x80) --mid;
  std::size_t end = mid + 1;
  for (int chars = 0; chars < 2 && end < full.text.size(); ++end)
    if ((static_cast<unsigned char>(full.text[end]) & 0xC0) != 0x80) ++chars;
  const std::string stop = full.text.substr(mid, end - 1 - mid);
  ASSERT_FALSE(stop.empty());
  o.stop = {"never appears \x01", stop};
  std::string streamed;
  const GenerateResult cut = f.gen.generate("Program", o, [&](const std::string& s) { streamed += s; });
  EXPECT_EQ(cut.stop_reason, "stop_string");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop))) << "stop '" << stop << "'";
  EXPECT_EQ(streamed, cut.text);
  EXPECT_FALSE(cut.text.empty());
  EXPECT_LT(cut.ids.size(), full.ids.size());
  EXPECT_EQ(cut.ids, Ids(full.ids.begin(), full.ids.begin() + static_cast<std::ptrdiff_t>(cut.ids.size())));
}

TEST(Generate, PromptLongerThanTheContextErrorsOrKeepsItsLastTokens) {
  Fixture f;
  Ids prompt = f.tok->encode(
      "This License applies to any program or other work which contains a notice placed by the copyright holder "
      "saying it may be distributed under the terms of this General Public License.");
  ASSERT_GT(static_cast<int64_t>(prompt.size()), kContext);
  const auto P = static_cast<int64_t>(prompt.size());
  try {
    f.gen.generate_ids(prompt, greedy(8));
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("prompt is " + std::to_string(P) + " tokens, model context is 32"), std::string::npos)
        << e.message();
    EXPECT_NE(e.hint().find("--truncate-prompt"), std::string::npos) << e.hint();
  }
  SamplingOptions o = greedy(8);
  o.truncate_prompt = true;
  const GenerateResult r = f.gen.generate_ids(prompt, o);
  EXPECT_EQ(f.gen.prompt_budget(8), kContext + 1 - 8);
  EXPECT_EQ(r.prompt_tokens, kContext + 1 - 8);
  EXPECT_EQ(r.truncated_tokens, P - r.prompt_tokens);
  const Ids tail(prompt.end() - r.prompt_tokens, prompt.end());
  EXPECT_EQ(r.ids, greedy_by_recomputation(*f.gpt, *f.tok, tail, 8));
}

TEST(Generate, StopsAtTheEndOfTheContext) {
  Fixture f;
  Ids prompt;
  const std::string text = "the terms and conditions of this License, the terms and conditions of this License";
  for (const int32_t id : f.tok->encode(text + ", " + text))
    if (static_cast<int64_t>(prompt.size()) < kContext - 2) prompt.push_back(id);
  ASSERT_EQ(static_cast<int64_t>(prompt.size()), kContext - 2);
  const GenerateResult r = f.gen.generate_ids(prompt, greedy(50));
  // Positions 30 and 31 are fed; the token predicted at position 31 is the last one.
  EXPECT_EQ(r.stop_reason, "context");
  EXPECT_EQ(r.ids.size(), 3u);
  EXPECT_EQ(r.ids, greedy_by_recomputation(*f.gpt, *f.tok, prompt, 3));
}

TEST(Generate, EmptyPromptStartsFromEndOfText) {
  Fixture f;
  const GenerateResult r = f.gen.generate("", greedy(5));
  EXPECT_EQ(r.prompt_tokens, 1);
  EXPECT_EQ(r.ids, greedy_by_recomputation(*f.gpt, *f.tok, {f.tok->eot_id()}, 5));
}

TEST(Generate, OnlyGptModels) {
  auto mlp = std::make_shared<MlpImpl>(MlpConfig{});
  try {
    Generator g(mlp, test::tiny_tokenizer(), "'runs/spirals'");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_EQ(e.message(), "generate needs a causal language model; 'runs/spirals' holds a mlp model, which does not write text");
  }
}

TEST(Generate, BadSamplingOptionsAreUserErrors) {
  Fixture f;
  SamplingOptions o;
  o.top_p = 0;
  EXPECT_THROW(f.gen.generate("a", o), UserError);
  o = SamplingOptions{};
  o.max_new_tokens = 0;
  EXPECT_THROW(f.gen.generate("a", o), UserError);
  o = SamplingOptions{};
  o.temperature = -1;
  EXPECT_THROW(f.gen.generate("a", o), UserError);
}

TEST(TextStream, MultiByteCharactersComeWholeAcrossTokens) {
  auto tok = test::tiny_tokenizer();
  const std::string text = "caf\xC3\xA9 \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89 done";  // café — 日本 🎉 done
  const Ids ids = tok->encode(text);
  ASSERT_EQ(tok->decode(ids), text);
  TextStream s(tok, {});
  std::string joined;
  int held = 0;
  for (const int32_t id : ids) {
    const std::string piece = s.push(id);
    EXPECT_TRUE(valid_utf8(piece)) << "piece of token " << id;
    held += piece.empty();
    joined += piece;
  }
  joined += s.finish();
  EXPECT_EQ(joined, text);
  EXPECT_EQ(s.text(), text);
  // The characters outside the 400-piece vocabulary are byte pieces: for é, —, 日, 本 and 🎉,
  // 1 + 2 + 2 + 2 + 3 = 10 tokens complete no character.
  EXPECT_GE(held, 10);
}

TEST(TextStream, SampledBytesStreamAsValidUtf8) {
  Fixture f;
  SamplingOptions o = greedy(kContext - 1);
  o.temperature = 1.5;  // near uniform: mostly byte pieces, many of which form no character
  for (uint64_t seed = 0; seed < 4; ++seed) {
    o.seed = seed;
    std::string joined;
    int pieces = 0;
    const GenerateResult r = f.gen.generate("x", o, [&](const std::string& p) {
      EXPECT_TRUE(valid_utf8(p)) << "seed " << seed;
      EXPECT_FALSE(p.empty());
      joined += p;
      ++pieces;
    });
    EXPECT_EQ(joined, r.text);
    EXPECT_TRUE(valid_utf8(r.text));
    EXPECT_GT(pieces, 0);
  }
}

TEST(TextStream, StopStringAcrossTokensIsHeldBackAndCut) {
  auto tok = test::tiny_tokenizer();
  TextStream s(tok, {"orld"});
  std::string joined;
  for (const int32_t id : tok->encode("hello world, again")) {
    joined += s.push(id);
    EXPECT_EQ(joined.find('o', 5), std::string::npos) << "'o' of the stop string was handed out: " << joined;
    if (s.stopped()) break;
  }
  EXPECT_TRUE(s.stopped());
  joined += s.finish();
  EXPECT_EQ(joined, "hello w");
}

TEST(TextStream, CompleteUtf8) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(complete_utf8("a\xC3", false), "a");            // cut off: wait for the next byte
  EXPECT_EQ(complete_utf8("a\xC3", true), "a" + fffd);      // at the end: replaced
  EXPECT_EQ(complete_utf8("\xC3g", false), fffd + "g");     // cannot be completed
  EXPECT_EQ(complete_utf8("\xE2\x82", false), "");
  EXPECT_EQ(complete_utf8("\xE2\x82\xAC", false), "\xE2\x82\xAC");  // €
  EXPECT_EQ(complete_utf8("\xF0\x9F\x8E", false), "");
  EXPECT_EQ(complete_utf8("\xE0\x80" "x", false), fffd + fffd + "x");  // overlong: never valid
  EXPECT_EQ(complete_utf8("\xED\xA0" "x", false), fffd + fffd + "x");  // surrogate: never valid
  EXPECT_EQ(complete_utf8("x\xED\xA0", false), "x");  // trailing U+FFFDs wait for what follows
  EXPECT_EQ(complete_utf8("x\xED\xA0", true), "x" + fffd + fffd);
  EXPECT_EQ(complete_utf8("\xFF" "b", false), fffd + "b");
  EXPECT_EQ(complete_utf8("ab" + fffd, false), "ab");        // a decoder's stand-in for a cut-off byte
  EXPECT_EQ(complete_utf8("ab" + fffd, true), "ab" + fffd);
}

}  // namespace
}  // namespace ptft
