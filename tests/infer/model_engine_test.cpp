// ptft serve's model-backed engine (infer/model_engine.h): the generator's text and counts, the
// OpenAI finish reasons, a client that goes away stopping the generation at once, the chat
// template with its turn end, and prompt token counts as generate() sees them.
#include "ptft/infer/model_engine.h"

#include <gtest/gtest.h>

#include "../common/user_error.h"
#include "tiny_lm.h"

namespace ptft {
namespace {

ModelEngine engine_with(const std::string& template_spec, int64_t context = 64) {
  Pretrained p;
  p.dir = "runs/tiny/checkpoints/best";
  p.tokenizer = test::tiny_tokenizer();
  p.model = test::tiny_gpt(p.tokenizer->vocab_size(), context);
  return ModelEngine(std::move(p), "tiny", template_spec);
}

GenerationParams greedy(int64_t n) {
  GenerationParams g;
  g.max_tokens = n;
  g.temperature = 0;
  return g;
}

TEST(ModelEngine, GeneratesAsGenerateDoesWithOpenAiFinishReasons) {
  ModelEngine e = engine_with("");
  EXPECT_FALSE(e.has_chat_template());
  std::string streamed;
  const GenerationOutcome o = e.generate("This License", greedy(6), [&](const std::string& s) {
    streamed += s;
    return true;
  });
  EXPECT_EQ(o.text, streamed);
  EXPECT_EQ(o.completion_tokens, 6);
  EXPECT_EQ(o.finish_reason, "length");
  EXPECT_EQ(o.prompt_tokens, e.count_tokens("This License"));
  Generator g(test::tiny_gpt(test::tiny_tokenizer()->vocab_size(), 64), test::tiny_tokenizer(), "'tiny'");
  SamplingOptions so;
  so.temperature = 0;
  so.max_new_tokens = 6;
  EXPECT_EQ(o.text, g.generate("This License", so).text);
  const std::string err = test::user_error_of([&] { e.render_chat({{"user", "hi"}}); });
  EXPECT_NE(err.find("no chat template"), std::string::npos) << err;
}

TEST(ModelEngine, AClientThatGoesAwayStopsTheGenerationAtOnce) {
  ModelEngine e = engine_with("", 512);
  int pieces = 0;
  const GenerationOutcome o = e.generate("This License", greedy(400), [&](const std::string&) { return ++pieces < 2; });
  EXPECT_EQ(o.finish_reason, "cancelled");
  EXPECT_EQ(pieces, 2) << "no text is generated after the sink said stop";
  EXPECT_GT(o.prompt_tokens, 0);
}

TEST(ModelEngine, ChatUsesTheTemplateAndStopsAtAStopString) {
  ModelEngine e = engine_with("ptft-chat");
  ASSERT_TRUE(e.has_chat_template());
  const std::string prompt = e.render_chat({{"system", "Be brief."}, {"user", "What is a licence?"}});
  EXPECT_EQ(prompt, "<|system|>\nBe brief.\n<|user|>\nWhat is a licence?\n<|assistant|>\n");
  const auto sink = [](const std::string&) { return true; };
  const GenerationOutcome full = e.generate(prompt, greedy(20), sink);
  ASSERT_GE(full.text.size(), 4u) << "the greedy answer is too short to cut";
  // A stop string taken from the answer itself: the answer ends just before it.
  GenerationParams p = greedy(20);
  const size_t at = full.text.size() / 2;
  p.stop = {full.text.substr(at, 2)};
  const GenerationOutcome cut = e.generate(prompt, p, sink);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(p.stop[0])));
}

}  // namespace
}  // namespace ptft
