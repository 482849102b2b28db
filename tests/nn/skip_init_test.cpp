// nn::SkipInit: while it lives, nn::Linear and the GPT / Llama families draw no random initial
// values (libtorch's generator is left where it was); it nests and ends with its scope; a model
// built under it and loaded strictly equals the same model built normally and loaded.
#include "ptft/nn/skip_init.h"

#include <gtest/gtest.h>

#include "../infer/tiny_lm.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/gpt.h"
#include "ptft/nn/linear.h"

namespace ptft {
namespace {

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
  const auto source = test::tiny_gpt(50, 16, /*seed=*/4);
  std::shared_ptr<GptImpl> skipped;
  {
    nn::SkipInit skip;
    skipped = test::tiny_gpt(50, 16, /*seed=*/5);
  }
  load_into(*skipped, state_dict(*source), "test", /*strict=*/true);
  source->eval();
  skipped->eval();
  torch::NoGradGuard ng;
  const auto ids = torch::randint(50, {2, 7}, torch::kLong);
  EXPECT_TRUE(torch::equal(skipped->forward({{"input_ids", ids}}).at("logits"), source->forward({{"input_ids", ids}}).at("logits")));
}

}  // namespace
}  // namespace ptft
