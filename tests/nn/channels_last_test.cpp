// nn::channels_last_strides: a one-channel NCHW batch becomes a channels-last view of the same
// bytes (no copy), so that libtorch convolves it in NHWC and its output is channels-last (with
// x.contiguous(ChannelsLast), a no-op there, the output was NCHW); several channels: the
// channels-last copy.
#include <gtest/gtest.h>

#include "ptft/nn/channels_last.h"

namespace ptft {
namespace {

constexpr auto kNhwc = torch::MemoryFormat::ChannelsLast;

TEST(ChannelsLastStrides, OneChannelIsAChannelsLastViewAndConvolvesNhwc) {
  torch::manual_seed(41);
  const auto x = torch::randn({4, 1, 6, 5});
  const auto v = nn::channels_last_strides(x);
  EXPECT_EQ(v.stride(1), 1);
  EXPECT_EQ(v.data_ptr(), x.data_ptr());  // the same bytes
  EXPECT_TRUE(torch::equal(v, x));
  const auto w = torch::randn({8, 1, 3, 3}).contiguous(kNhwc);
  EXPECT_TRUE(torch::conv2d(v, w, {}, 1, 1).is_contiguous(kNhwc));
  EXPECT_FALSE(torch::conv2d(x.contiguous(kNhwc), w, {}, 1, 1).is_contiguous(kNhwc));  // what it mends
}

TEST(ChannelsLastStrides, SeveralChannelsAreTheChannelsLastCopy) {
  torch::manual_seed(42);
  const auto x = torch::randn({2, 3, 4, 4});
  const auto v = nn::channels_last_strides(x);
  EXPECT_TRUE(v.is_contiguous(kNhwc));
  EXPECT_FALSE(v.is_contiguous());
  EXPECT_TRUE(torch::equal(v, x));
}

}  // namespace
}  // namespace ptft
