#include "ptft/data/prefetcher.h"

#include <torch/torch.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ptft/core/error.h"

namespace ptft {

Prefetcher::Prefetcher(DataSource& src, int64_t start_step, int64_t end_step, int64_t micro_batch,
                       int64_t grad_accum, size_t depth)
    : src_(src), step_(start_step), end_(end_step), micro_batch_(micro_batch), accum_(grad_accum),
      depth_(depth > 0 ? depth : 1) {
  thread_ = std::thread([this] { run(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Prefetcher::run() {
  // The training step owns the cores: batch making (decoding, augmentation) on this thread runs
  // its tensor ops on one thread instead of a second OpenMP team that would fight the step's.
  // (at::get_num_threads() first: libtorch initialises a thread's OpenMP settings on first use.)
  (void)at::get_num_threads();
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
  try {
    for (int64_t step = step_; step < end_; ++step) {
      for (int64_t micro = 0; micro < accum_; ++micro) {
        Batch b = src_.train_batch({step, micro, micro_batch_, accum_});
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
        queue_.push_back(std::move(b));
        cv_.notify_all();
      }
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

Batch Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || error_ || done_; });
  if (!queue_.empty()) {
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }
  if (error_) std::rethrow_exception(error_);
  throw InternalError("Prefetcher::next() called past the last batch");
}

}  // namespace ptft
