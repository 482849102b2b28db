// Tests for ptft/train/schedule.h: LrSchedule::at against hand-computed values (tolerance 1e-12).
//
// Reference schedule: lr 1.0, warmup 10, steps 110, min_ratio 0.1, so that after warmup the
// decay runs over 100 steps: t = (step - 10) / 100, lo = 0.1.
//   warmup:  at(s) = s / 10                                   (s <= 10)
//   cosine:  at(s) = 0.1 + 0.45 * (1 + cos(pi * t))
//   linear:  at(s) = 1 - 0.9 * t
#include "ptft/train/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ptft/core/error.h"

namespace ptft {
namespace {

constexpr double kTol = 1e-12;

LrSchedule make(const std::string& kind) { return LrSchedule{kind, 1.0, 10, 110, 0.1}; }

TEST(LrSchedule, WarmupIsLinearFromLrOverWarmup) {
  for (const char* kind : {"cosine", "linear", "constant"}) {
    SCOPED_TRACE(kind);
    auto s = make(kind);
    EXPECT_NEAR(s.at(1), 0.1, kTol);
    EXPECT_NEAR(s.at(5), 0.5, kTol);
    EXPECT_NEAR(s.at(10), 1.0, kTol);  // the peak is reached at the last warmup step
  }
}

TEST(LrSchedule, CosineHandComputed) {
  auto s = make("cosine");
  EXPECT_NEAR(s.at(11), 0.1 + 0.45 * (1 + std::cos(M_PI * 0.01)), kTol);
  EXPECT_NEAR(s.at(35), 0.1 + 0.45 * (1 + std::cos(M_PI * 0.25)), kTol);  // 0.1 + 0.45 * 1.7071...
  EXPECT_NEAR(s.at(60), 0.55, kTol);                                       // half way: cos = 0
  EXPECT_NEAR(s.at(110), 0.1, kTol);                                       // ends at lr * min_ratio
  EXPECT_NEAR(s.at(500), 0.1, kTol);                                       // and stays there
}

TEST(LrSchedule, LinearHandComputed) {
  auto s = make("linear");
  EXPECT_NEAR(s.at(35), 0.775, kTol);
  EXPECT_NEAR(s.at(60), 0.55, kTol);
  EXPECT_NEAR(s.at(110), 0.1, kTol);
  EXPECT_NEAR(s.at(111), 0.1, kTol);
}

TEST(LrSchedule, ConstantAfterWarmup) {
  auto s = make("constant");
  EXPECT_NEAR(s.at(11), 1.0, kTol);
  EXPECT_NEAR(s.at(110), 1.0, kTol);
  EXPECT_NEAR(s.at(10000), 1.0, kTol);
}

TEST(LrSchedule, NoWarmupStartsNearPeak) {
  LrSchedule s{"linear", 2.0, 0, 100, 0.0};
  EXPECT_NEAR(s.at(1), 2.0 * (1 - 0.01), kTol);
  EXPECT_NEAR(s.at(50), 1.0, kTol);
  EXPECT_NEAR(s.at(100), 0.0, kTol);
  LrSchedule c{"cosine", 3e-4, 0, 1, 0.5};  // a one-step run ends at the floor
  EXPECT_NEAR(c.at(1), 1.5e-4, kTol);
}

TEST(LrSchedule, WarmupLongerThanRunDoesNotDivideByZero) {
  LrSchedule s{"cosine", 1.0, 10, 10, 0.1};
  EXPECT_NEAR(s.at(10), 1.0, kTol);
  EXPECT_NEAR(s.at(11), 0.1, kTol);  // span clamps to 1 step: decay is complete
}

TEST(LrSchedule, UnknownKindIsUserErrorEvenDuringWarmup) {
  // Fails on the first step, not only once warmup is over.
  for (int64_t step : {1, 10, 11, 200}) {
    SCOPED_TRACE(step);
    try {
      make("cosin").at(step);
      FAIL() << "expected UserError";
    } catch (const UserError& e) {
      EXPECT_NE(e.message().find("'cosin'"), std::string::npos) << e.message();
      EXPECT_NE(e.hint().find("cosine, linear or constant"), std::string::npos) << e.hint();
    }
  }
}

}  // namespace
}  // namespace ptft
