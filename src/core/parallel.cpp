#include "ptft/core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ptft {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  if (begin >= end) return;
#ifndef _OPENMP
  (void)grain;
  f(begin, end);  // built without OpenMP: one thread
#else
  const int64_t n = end - begin;
  const int64_t most = grain > 0 ? (n + grain - 1) / grain : n;
  if (omp_in_parallel() || omp_get_max_threads() == 1 || most == 1) {
    f(begin, end);
    return;
  }
  std::atomic_flag failed = ATOMIC_FLAG_INIT;
  std::exception_ptr error;
  // No num_threads clause (as ATen: it makes GOMP rebuild its thread pool); surplus threads idle.
#pragma omp parallel
  {
    const int64_t threads = std::min<int64_t>(omp_get_num_threads(), most);
    const int64_t chunk = (n + threads - 1) / threads, b = begin + omp_get_thread_num() * chunk;
    if (omp_get_thread_num() < threads && b < end) {
      try {
        f(b, std::min(end, b + chunk));
      } catch (...) {
        if (!failed.test_and_set()) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
#endif
}

}  // namespace ptft
