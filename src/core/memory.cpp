#include "ptft/core/memory.h"

#include <sys/resource.h>

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ptft {

double peak_rss_mb() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void retain_freed_memory() {
#if defined(__GLIBC__)
  // mallopt takes an int: 1 GiB and INT_MAX are the largest meaningful values. Setting either
  // also turns off glibc's dynamic threshold, which would otherwise move them back.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace ptft
