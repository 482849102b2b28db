// Tests for ptft/data/prefetcher.h: batches come out in address order, equal to direct
// train_batch calls; errors of the data source reach the caller; it stops cleanly.
#include "ptft/data/prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ptft/core/error.h"

namespace ptft {
namespace {

// Batches that carry their own address: x = [[step, micro, micro_batch, grad_accum]].
class AddressSource : public DataSource {
 public:
  int64_t fail_step = -1, fail_micro = -1;  // throw a UserError at this address
  std::atomic<int64_t> produced{0};
  std::string describe() const override { return "addresses"; }
  int64_t size() const override { return 1000; }
  Batch train_batch(const BatchAddress& at) override {
    if (at.step == fail_step && at.micro == fail_micro)
      throw UserError("data.train: record " + std::to_string(at.step) + " is corrupt", "fix the file");
    ++produced;
    auto x = torch::tensor({at.step, at.micro, at.micro_batch, at.grad_accum}, torch::kLong).unsqueeze(0);
    return Batch{{{"x", x}}, at.micro_batch};
  }
  int64_t eval_batches(int64_t) const override { return 0; }
  Batch eval_batch(int64_t, int64_t) override { return {}; }
};

std::vector<int64_t> address_of(const Batch& b) {
  auto x = b.data.at("x")[0];
  return {x[0].item<int64_t>(), x[1].item<int64_t>(), x[2].item<int64_t>(), x[3].item<int64_t>()};
}

TEST(Prefetcher, YieldsBatchesInAddressOrder) {
  AddressSource src;
  Prefetcher pf(src, /*start_step=*/3, /*end_step=*/7, /*micro_batch=*/8, /*grad_accum=*/3, /*depth=*/2);
  for (int64_t step = 3; step < 7; ++step)
    for (int64_t micro = 0; micro < 3; ++micro) {
      Batch b = pf.next();
      EXPECT_EQ(address_of(b), (std::vector<int64_t>{step, micro, 8, 3}));
      EXPECT_EQ(b.weight, 8);
    }
  // Past the end: an internal error, not a hang.
  EXPECT_THROW(pf.next(), InternalError);
}

TEST(Prefetcher, EqualsDirectCallsOnSpirals) {
  DataContext ctx;
  ctx.seed = 9;
  auto a = open_data_source("synthetic:spirals?n=200", "train", ctx, "data.train");
  auto b = open_data_source("synthetic:spirals?n=200", "train", ctx, "data.train");
  Prefetcher pf(*a, 0, 10, 16, 2);
  for (int64_t step = 0; step < 10; ++step)
    for (int64_t micro = 0; micro < 2; ++micro) {
      Batch got = pf.next();
      Batch want = b->train_batch({step, micro, 16, 2});
      EXPECT_TRUE(torch::equal(got.data.at("x"), want.data.at("x"))) << step << "/" << micro;
      EXPECT_TRUE(torch::equal(got.data.at("y"), want.data.at("y"))) << step << "/" << micro;
      EXPECT_EQ(got.weight, want.weight);
    }
}

TEST(Prefetcher, RethrowsTheDataSourceErrorAfterTheGoodBatches) {
  AddressSource src;
  src.fail_step = 1;
  src.fail_micro = 1;
  Prefetcher pf(src, 0, 5, 4, 2);
  EXPECT_EQ(address_of(pf.next()), (std::vector<int64_t>{0, 0, 4, 2}));
  EXPECT_EQ(address_of(pf.next()), (std::vector<int64_t>{0, 1, 4, 2}));
  EXPECT_EQ(address_of(pf.next()), (std::vector<int64_t>{1, 0, 4, 2}));
  try {
    pf.next();
    FAIL() << "expected the source's UserError";
  } catch (const UserError& e) {
    EXPECT_EQ(e.message(), "data.train: record 1 is corrupt");
    EXPECT_EQ(e.hint(), "fix the file");
  }
  // The error stays: the trainer cannot silently skip a batch.
  EXPECT_THROW(pf.next(), UserError);
}

TEST(Prefetcher, RunsAheadAtMostDepthAndStopsWhenDestroyed) {
  AddressSource src;
  {
    Prefetcher pf(src, 0, 1000000, 1, 1, /*depth=*/3);
    pf.next();
    // Give the worker time to fill the queue; it must then block, not run through a million steps.
    for (int i = 0; i < 100 && src.produced.load() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_LE(src.produced.load(), 1 + 3 + 1);  // taken + queued + the one waiting for room
  }  // the destructor wakes and joins the blocked worker
  SUCCEED();
}

TEST(Prefetcher, EmptyRangeYieldsNothing) {
  AddressSource src;
  Prefetcher pf(src, 5, 5, 4, 2);
  EXPECT_THROW(pf.next(), InternalError);
  EXPECT_EQ(src.produced.load(), 0);
}

}  // namespace
}  // namespace ptft
