// ptft/core/parallel.h — a loop split over libtorch's intra-op threads (OpenMP), for the fused
// kernels (src/nn/, the AdamW step). at::parallel_for is a header template that runs its loop on
// one thread unless the file calling it is compiled with OpenMP; this function is compiled with
// it once (src/core/parallel.cpp), so that its callers keep their usual flags and the
// precompiled torch header.
//
//   ptft::parallel_for(0, n, 16384, [&](int64_t b, int64_t e) { kernel(x + b, y + b, e - b); });
//
// As at::parallel_for: [begin, end) in at most omp_get_max_threads() contiguous chunks of at least
// `grain` elements, the chunk of thread t being [begin + t c, begin + (t + 1) c); inside a parallel
// region, or with one chunk, f(begin, end) runs on the calling thread. The first exception thrown
// by f is rethrown after the loop.
#pragma once

#include <cstdint>
#include <functional>

namespace ptft {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& f);

}  // namespace ptft
