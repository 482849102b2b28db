// PhaseClock: each lap charges the time since the previous one to its phase; interval() gives
// the time since the last interval; shares_line() the rounded shares, largest first.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ptft/train/phase_clock.h"

namespace ptft {
namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST(PhaseClock, LapsChargeTheTimeSinceThePreviousLap) {
  PhaseClock clock(c10::Device(c10::kCPU), true);
  sleep_ms(30);
  clock.lap(Phase::Forward);
  sleep_ms(60);
  clock.lap(Phase::Backward);
  clock.lap(Phase::Optimizer);  // nothing since the last lap
  const nlohmann::json t = clock.totals();
  ASSERT_EQ(t.size(), kPhaseCount);
  EXPECT_GE(t["forward"].get<double>(), 0.030);
  EXPECT_LT(t["forward"].get<double>(), 0.060);  // generous: a loaded 2-core machine
  EXPECT_GE(t["backward"].get<double>(), 0.060);
  EXPECT_LT(t["optimizer"].get<double>(), 0.005);
  EXPECT_EQ(t["data"].get<double>(), 0.0);
}

TEST(PhaseClock, IntervalHoldsOnlyTheTimeSinceTheLastInterval) {
  PhaseClock clock(c10::Device(c10::kCPU), true);
  sleep_ms(20);
  clock.lap(Phase::Data);
  const nlohmann::json first = clock.interval();
  EXPECT_EQ(first.size(), 1u);
  EXPECT_GE(first["data"].get<double>(), 0.020);
  sleep_ms(20);
  clock.lap(Phase::Eval);
  const nlohmann::json second = clock.interval();
  EXPECT_EQ(second.size(), 1u) << second.dump();  // data has no new time
  EXPECT_GE(second["eval"].get<double>(), 0.020);
  EXPECT_TRUE(clock.interval().empty());
  EXPECT_GE(clock.totals()["data"].get<double>(), 0.020);  // totals keep everything
}

TEST(PhaseClock, OffClockTimesNothing) {
  PhaseClock clock(c10::Device(c10::kCPU), false);
  sleep_ms(5);
  clock.lap(Phase::Forward);
  EXPECT_FALSE(clock.on());
  EXPECT_EQ(clock.totals()["forward"].get<double>(), 0.0);
  EXPECT_TRUE(clock.interval().empty());
}

TEST(PhaseClock, SharesLineIsLargestFirstAndSkipsTinyPhases) {
  const nlohmann::json totals = {{"data", 0.001}, {"forward", 3.0}, {"backward", 5.5}, {"optimizer", 1.0},
                                 {"eval", 0.499}, {"sync", 0.0}};
  EXPECT_EQ(PhaseClock::shares_line(totals), "backward 55% | forward 30% | optimizer 10% | eval 5%");
  EXPECT_EQ(PhaseClock::shares_line(nlohmann::json::object()), "");
}

}  // namespace
}  // namespace ptft
