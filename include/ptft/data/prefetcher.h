// ptft/data/prefetcher.h — builds the next training micro-batches on a background thread so the
// trainer never waits on data. Batches come out in address order: (step, micro) for
// step in [start, end), micro in [0, grad_accum).
//
//   Prefetcher pf(train_src, start_step, total_steps, /*micro_batch=*/32, /*grad_accum=*/4);
//   Batch b = pf.next();     // rethrows any error the data source raised
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "ptft/data/data_source.h"

namespace ptft {

class Prefetcher {
 public:
  Prefetcher(DataSource& src, int64_t start_step, int64_t end_step, int64_t micro_batch,
             int64_t grad_accum, size_t depth = 4);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  Batch next();

 private:
  void run();
  DataSource& src_;
  int64_t step_, end_, micro_batch_, accum_;
  size_t depth_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stop_ = false, done_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace ptft
