// Tests for ptft/core/mapped_file.h: a file read through its mapping, and release_copied —
// whole pages inside a live mapping only, the bytes still readable (from the file) afterwards,
// nothing done to memory that is not a mapped file's or to a mapping already gone.
#include "ptft/core/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

TEST(MappedFile, ReleasingCopiedPagesKeepsTheBytesReadable) {
  test::TempDir tmp("mapped");
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  std::string bytes(5 * page + 100, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + 3);
  const std::string path = tmp.write("blob.bin", bytes);
  fs::MappedFile m(path, "test file");
  ASSERT_EQ(m.size(), bytes.size());
  const uint8_t* d = m.data();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d), m.size()), bytes);
  // [10, 3 pages + 50): the whole pages inside are 1 and 2 (pages 0 and 3 hold other bytes too)
  EXPECT_EQ(fs::MappedFile::release_copied(d + 10, 3 * page + 40), 2 * page);
  EXPECT_EQ(fs::MappedFile::release_copied(d, m.size()), 5 * page);  // the last partial page stays
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d), m.size()), bytes);  // read again from the file
  EXPECT_EQ(fs::MappedFile::release_copied(d + 1, page - 2), 0u);  // no whole page
  EXPECT_EQ(fs::MappedFile::release_copied(d, m.size() + 1), 0u);  // past the mapping
}

TEST(MappedFile, MemoryThatIsNoMappedFileIsLeftAlone) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  std::vector<uint8_t> heap(8 * page, 42);
  EXPECT_EQ(fs::MappedFile::release_copied(heap.data(), heap.size()), 0u);
  for (uint8_t v : heap) ASSERT_EQ(v, 42);
  test::TempDir tmp("mapped_gone");
  const std::string path = tmp.write("blob.bin", std::string(4 * page, 'x'));
  const void* where = nullptr;
  {
    fs::MappedFile m(path, "test file");
    where = m.data();
  }
  EXPECT_EQ(fs::MappedFile::release_copied(where, 4 * page), 0u);  // unmapped: not ours any more
  EXPECT_THROW(fs::MappedFile(tmp.path + "/missing", "test file"), UserError);
}

}  // namespace
}  // namespace ptft
