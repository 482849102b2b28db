// Language-model evaluation (ptft/eval/lm_eval.h): a text file's loss equals a direct
// computation (one forward over each overlapping window, summed cross-entropy / (N - 1)).
#include "ptft/eval/lm_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "ptft/core/error.h"
#include "tiny_lm.h"

namespace ptft {
namespace {

constexpr int64_t kContext = 8;

const char* const kText =
    "The GNU General Public License is a free, copyleft license for software and other kinds of works. "
    "When we speak of free software, we are referring to freedom, not price.";

// Sum over windows [i*T, i*T + T] of the summed next-token cross-entropy, / (N - 1).
double direct_loss(GptImpl& m, const std::vector<int32_t>& ids) {
  torch::NoGradGuard ng;
  const auto N = static_cast<int64_t>(ids.size());
  double sum = 0;
  for (int64_t s = 0; s < N - 1; s += kContext) {
    const int64_t len = std::min(kContext, N - 1 - s);
    std::vector<int64_t> in(ids.begin() + s, ids.begin() + s + len), tg(ids.begin() + s + 1, ids.begin() + s + 1 + len);
    auto logits = m.forward({{"input_ids", torch::tensor(in).unsqueeze(0)}}).at("logits")[0];  // (len, V)
    sum += torch::nn::functional::cross_entropy(
               logits, torch::tensor(tg), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
  }
  return sum / static_cast<double>(N - 1);
}

TEST(LmEval, TextFileEqualsDirectComputation) {
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), kContext);
  test::TempDir tmp("lm_eval");
  const std::string file = tmp.path + "/test.txt";
  std::ofstream(file, std::ios::binary) << kText;

  const std::vector<int32_t> ids = tok->encode(kText);
  const auto N = static_cast<int64_t>(ids.size());
  ASSERT_GT(N, 3 * kContext);
  ASSERT_NE((N - 1) % kContext, 0) << "the last window should be shorter";
  const double expected = direct_loss(*gpt, ids);

  for (const int64_t batch : {1, 3, 64}) {
    LmEvalOptions o;
    o.data = file;
    o.batch_size = batch;
    const nlohmann::json m = evaluate_lm(*gpt, tok, o);
    EXPECT_NEAR(m.at("loss").get<double>(), expected, 1e-5) << "batch size " << batch;
    EXPECT_NEAR(m.at("perplexity").get<double>(), std::exp(m.at("loss").get<double>()), 1e-9);
    EXPECT_EQ(m.at("tokens").get<int64_t>(), N - 1);
  }
  // A random model is close to a uniform guess: loss near log(V).
  EXPECT_NEAR(expected, std::log(static_cast<double>(tok->vocab_size())), 0.5);
}

TEST(LmEval, TooShortAndMissingInputsAreUserErrors) {
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), kContext);
  try {
    evaluate_lm_tokens(*gpt, {5}, 8, "'one.txt'");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_EQ(e.message(), "'one.txt' is 1 token(s): too short to evaluate");
  }
  LmEvalOptions o;
  o.data = "/nonexistent/eval.txt";
  try {
    evaluate_lm(*gpt, tok, o);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("/nonexistent/eval.txt"), std::string::npos) << e.message();
  }
  o.data = "a.txt";
  o.split = "test";
  EXPECT_THROW(evaluate_lm(*gpt, tok, o), UserError);
}

TEST(LmEval, ModelModeIsRestored) {
  auto tok = test::tiny_tokenizer();
  auto gpt = test::tiny_gpt(tok->vocab_size(), kContext);
  gpt->train();
  evaluate_lm_tokens(*gpt, tok->encode(kText), 4, "text");
  EXPECT_TRUE(gpt->is_training());
}

}  // namespace
}  // namespace ptft
