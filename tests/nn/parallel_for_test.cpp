// ptft::parallel_for (core/parallel.h), the thread split of the fused kernels: every index once,
// in contiguous chunks of at least the grain; both threads used when two are set (the reason it
// exists: at::parallel_for ran on one thread in ptft's files); one thread, a nested call or a
// range under the grain run on the caller; an exception reaches the caller.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "ptft/core/parallel.h"

namespace ptft {
namespace {

struct Chunks {
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::set<std::thread::id> threads;
  void add(int64_t b, int64_t e) {
    std::lock_guard<std::mutex> lock(mu);
    ranges.emplace_back(b, e);
    threads.insert(std::this_thread::get_id());
  }
};

class ParallelFor : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = at::get_num_threads(); }
  void TearDown() override { at::set_num_threads(saved_); }
  int saved_ = 1;
};

TEST_F(ParallelFor, CoversTheRangeOnceInContiguousChunksOnEveryThread) {
  at::set_num_threads(2);
  Chunks c;
  std::vector<int> seen(100000, 0);
  parallel_for(0, 100000, 1000, [&](int64_t b, int64_t e) {
    c.add(b, e);
    for (int64_t i = b; i < e; ++i) ++seen[static_cast<size_t>(i)];
  });
  for (int v : seen) ASSERT_EQ(v, 1);
  ASSERT_EQ(c.ranges.size(), 2u);
  EXPECT_EQ(c.threads.size(), 2u);
  for (auto [b, e] : c.ranges) EXPECT_GE(e - b, 1000);
}

TEST_F(ParallelFor, OneThreadANestedCallOrASmallRangeRunOnTheCaller) {
  at::set_num_threads(1);
  Chunks one;
  parallel_for(5, 50000, 10, [&](int64_t b, int64_t e) { one.add(b, e); });
  ASSERT_EQ(one.ranges.size(), 1u);
  EXPECT_EQ(one.ranges[0].first, 5);
  EXPECT_EQ(one.ranges[0].second, 50000);

  at::set_num_threads(2);
  Chunks small;
  parallel_for(0, 999, 1000, [&](int64_t b, int64_t e) { small.add(b, e); });
  EXPECT_EQ(small.ranges.size(), 1u);
  EXPECT_EQ(*small.threads.begin(), std::this_thread::get_id());

  Chunks inner;
  parallel_for(0, 2, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) parallel_for(0, 10000, 1, [&](int64_t ib, int64_t ie) { inner.add(ib, ie); });
  });
  EXPECT_EQ(inner.ranges.size(), 2u);  // one chunk per outer index: the inner loops stay serial
}

TEST_F(ParallelFor, AnExceptionReachesTheCaller) {
  at::set_num_threads(2);
  EXPECT_THROW(parallel_for(0, 10, 1,
                            [](int64_t b, int64_t) {
                              if (b > 0) throw std::runtime_error("second chunk");
                            }),
               std::runtime_error);
  EXPECT_NO_THROW(parallel_for(3, 3, 1, [](int64_t, int64_t) { throw std::runtime_error("empty range"); }));
}

}  // namespace
}  // namespace ptft
