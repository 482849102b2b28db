// nn::SkipInit: while it lives, nn::Linear and the GPT / Llama families draw no random initial
// values (libtorch's generator is left where it was); it nests and ends with its scope; a model
// built under it and loaded strictly equals the same model built normally and loaded.
#include "ptft/nn/skip_init.h"

#include <gtest/gtest.h>

#include "ptft/io/tensor_io.h"
#include "ptft/models/gpt.h"
#include "ptft/nn/linear.h"

namespace ptft {
namespace {

GptConfig tiny_gpt() {
  GptConfig c;
  c.vocab_size = 50;
  c.n_positions = 16;
  c.n_embd = 16;
  c.n_layer = 2;
  c.n_head = 2;
  return c;
}

TEST(SkipInit, LinearDrawsNothingWhileItLivesAndItNests) {
  torch::manual_seed(3);
  const auto expected_next = torch::rand({4});
  torch::manual_seed(3);
  {
    nn::SkipInit skip;
    EXPECT_TRUE(nn::SkipInit::active());
    {
      nn::SkipInit inner;
      nn::Linear a(nn::LinearOptions(64, 32));
    }
    EXPECT_TRUE(nn::SkipInit::active());  // the inner one restored the outer state
    nn::Linear b(nn::LinearOptions(64, 32));
    EXPECT_EQ(b->weight.sizes(), (std::vector<int64_t>{32, 64}));
  }
  EXPECT_FALSE(nn::SkipInit::active());
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected_next));  // no random number was drawn
  torch::manual_seed(3);
  nn::Linear drawn(nn::LinearOptions(64, 32));
  EXPECT_FALSE(torch::equal(torch::rand({4}), expected_next));
}

TEST(SkipInit, AModelBuiltUnderItAndLoadedEqualsTheLoadedModel) {
  torch::manual_seed(4);
  GptImpl source(tiny_gpt());
  const TensorMap weights = state_dict(source);
  std::shared_ptr<GptImpl> skipped;
  {
    nn::SkipInit skip;
    skipped = std::make_shared<GptImpl>(tiny_gpt());
  }
  load_into(*skipped, weights, "test", /*strict=*/true);
  source.eval();
  skipped->eval();
  torch::NoGradGuard ng;
  const auto ids = torch::randint(50, {2, 7}, torch::kLong);
  EXPECT_TRUE(torch::equal(skipped->forward({{"input_ids", ids}}).at("logits"), source.forward({{"input_ids", ids}}).at("logits")));
}

}  // namespace
}  // namespace ptft
