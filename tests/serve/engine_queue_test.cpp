// Tests for ptft/serve/engine_queue.h: one holder at a time, FIFO, a bounded wait list.
#include "ptft/serve/engine_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace ptft {
namespace {

using std::chrono::milliseconds;

TEST(ServeEngineQueue, RefusesBeyondMaxWaitingAndServesInArrivalOrder) {
  EngineQueue q(2);
  std::optional<EngineQueue::Turn> first = q.try_enter();
  ASSERT_TRUE(first);
  EXPECT_EQ(q.waiting(), 0u);

  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; ++i) {
    waiters.emplace_back([&, i] {
      std::optional<EngineQueue::Turn> t = q.try_enter();
      ASSERT_TRUE(t);
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
    ASSERT_TRUE(q.wait_until_waiting(size_t(i) + 1, milliseconds(5000)));  // i+1 wait, in order
  }
  EXPECT_FALSE(q.try_enter());  // two wait already: refused at once
  first.reset();
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1}));
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_TRUE(q.try_enter());   // free again
}

TEST(ServeEngineQueue, ZeroWaitingAllowsOnlyTheHolder) {
  EngineQueue q(0);
  {
    std::optional<EngineQueue::Turn> t = q.try_enter();
    ASSERT_TRUE(t);
    EXPECT_FALSE(q.try_enter());
  }
  EXPECT_TRUE(q.try_enter());
}

TEST(ServeEngineQueue, AMovedTurnReleasesOnce) {
  EngineQueue q(1);
  std::optional<EngineQueue::Turn> t = q.try_enter();
  ASSERT_TRUE(t);
  auto moved = std::make_unique<EngineQueue::Turn>(std::move(*t));
  t.reset();  // the moved-from turn releases nothing: the engine is still held
  std::thread other([&] { EXPECT_TRUE(q.try_enter()); });
  ASSERT_TRUE(q.wait_until_waiting(1, milliseconds(5000)));  // `other` waits for `moved`
  EXPECT_FALSE(q.try_enter());                               // and fills the wait list
  moved.reset();
  other.join();
  EXPECT_EQ(q.waiting(), 0u);
}

}  // namespace
}  // namespace ptft
