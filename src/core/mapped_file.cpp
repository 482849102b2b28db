#include "ptft/core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "ptft/core/error.h"

namespace ptft::fs {
namespace {

struct LiveMaps {  // the address ranges of the MappedFiles alive now
  std::mutex mu;
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
};

LiveMaps& live_maps() {
  static LiveMaps* maps = new LiveMaps;  // never destroyed: MappedFiles may outlive static destructors
  return *maps;
}

}  // namespace

MappedFile::MappedFile(const std::string& path, const std::string& kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw UserError("cannot open " + kind + " '" + path + "': " + std::strerror(err),
                    err == ENOENT ? "check the path" : "check the file's permissions");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw UserError(kind + " '" + path + "' is not a regular file", "check the path");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* m = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw UserError("cannot mmap " + kind + " '" + path + "' (" + std::to_string(size_) +
                          " bytes): " + std::strerror(err),
                      "check the available address space / memory limits (ulimit -v)");
    }
    map_ = m;
    LiveMaps& maps = live_maps();
    std::lock_guard<std::mutex> lock(maps.mu);
    maps.ranges.emplace_back(reinterpret_cast<uintptr_t>(m), reinterpret_cast<uintptr_t>(m) + size_);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (map_ == nullptr) return;
  {
    LiveMaps& maps = live_maps();
    std::lock_guard<std::mutex> lock(maps.mu);
    const std::pair<uintptr_t, uintptr_t> mine{reinterpret_cast<uintptr_t>(map_), reinterpret_cast<uintptr_t>(map_) + size_};
    for (auto it = maps.ranges.begin(); it != maps.ranges.end(); ++it)
      if (*it == mine) {
        maps.ranges.erase(it);
        break;
      }
  }
  ::munmap(map_, size_);
}

uint64_t MappedFile::release_copied(const void* p, uint64_t n) {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p), end = begin + n;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;  // whole pages only
  if (n == 0 || first >= last) return 0;
  LiveMaps& maps = live_maps();
  std::lock_guard<std::mutex> lock(maps.mu);  // the mapping cannot go away meanwhile
  for (const auto& [lo, hi] : maps.ranges)
    if (begin >= lo && end <= hi)
      return ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) == 0 ? last - first : 0;
  return 0;
}

}  // namespace ptft::fs
