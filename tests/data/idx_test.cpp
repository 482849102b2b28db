// Tests for ptft/data/idx.h: hand-written IDX files (plain and gzip), every header check, and
// the real Fashion-MNIST files when the Debian package is installed.
#include "ptft/data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/data/idx_array.h"

namespace ptft {
namespace {

const std::string kFmnist = "/usr/share/datasets/fashion-mnist/";

// Header (magic 0 0 0x08 D, D big-endian sizes) + values.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& values, uint8_t type = 0x08) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) s += static_cast<char>((d >> shift) & 0xFF);
  return s + values;
}

std::string write(const std::string& path, const std::string& bytes) {
  fs::write_file_atomic(path, bytes);
  return path;
}

std::string write_gz(const std::string& path, const std::string& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
  return path;
}

std::string error_of(const std::string& path) {
  try {
    read_idx(path);
  } catch (const UserError& e) {
    return e.message();
  }
  return "no error";
}

TEST(Idx, ReadsPlainAndGzip) {
  test::TempDir tmp("idx");
  std::string values;
  for (int i = 0; i < 2 * 2 * 3; ++i) values += static_cast<char>(i * 10);
  const std::string bytes = idx_bytes({2, 2, 3}, values);
  for (const auto& path : {write(tmp.path + "/a-images-idx3-ubyte", bytes), write_gz(tmp.path + "/b-images-idx3-ubyte.gz", bytes)}) {
    auto t = read_idx(path);
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{2, 2, 3})) << path;
    EXPECT_EQ(t.scalar_type(), torch::kUInt8);
    EXPECT_EQ(t[1][0][2].item<int>(), 80);  // row-major: index 1*6 + 0*3 + 2 = 8
    EXPECT_EQ(t.sum().item<int64_t>(), 660);
  }
}

TEST(Idx, HeaderAndSizeErrorsNameTheFile) {
  test::TempDir tmp("idx_bad");
  const std::string d = tmp.path + "/";
  EXPECT_NE(error_of(write(d + "short", std::string(2, '\0'))).find("too short"), std::string::npos);
  EXPECT_NE(error_of(write(d + "magic", "PK\x03\x04xxxxxxxxxxxx")).find("not an IDX file"), std::string::npos);
  EXPECT_NE(error_of(write(d + "float", idx_bytes({1}, "abcd", 0x0D))).find("type 0x0d"), std::string::npos);
  EXPECT_NE(error_of(write(d + "zero", idx_bytes({0, 28, 28}, ""))).find("size 0"), std::string::npos);
  const std::string truncated = error_of(write(d + "trunc", idx_bytes({2, 2, 2}, "abcde")));
  EXPECT_NE(truncated.find("truncated"), std::string::npos) << truncated;
  EXPECT_NE(truncated.find("8 bytes of data, the file has 5"), std::string::npos) << truncated;
  EXPECT_NE(truncated.find(d + "trunc"), std::string::npos) << truncated;
  EXPECT_NE(error_of(write(d + "extra", idx_bytes({2}, "abc"))).find("bytes after"), std::string::npos);
  EXPECT_NE(error_of(d + "missing").find("does not exist"), std::string::npos);
  // A gzip stream cut short: zlib's complaint, named as the IDX file.
  std::string big(5000, '\x07');
  const std::string gz = write_gz(d + "cut.gz", idx_bytes({5000}, big));
  const std::string whole = fs::read_file(gz);
  write(gz, whole.substr(0, whole.size() / 2));
  const std::string cut = error_of(gz);
  EXPECT_NE(cut.find("IDX file"), std::string::npos) << cut;
  EXPECT_NE(cut.find(gz), std::string::npos) << cut;
}

// Sizes of 2^32 - 1 overflowed the int64 product (undefined behaviour) before the 64 GiB check
// saw it: the check now comes before each multiplication. A header that declares 50 GB over a
// few bytes is reported as truncated without allocating the 50 GB first.
TEST(Idx, AbsurdSizesNeitherOverflowNorAllocate) {
  test::TempDir tmp("idx_huge");
  const std::string huge = error_of(write(tmp.path + "/huge", idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, "ab")));
  EXPECT_NE(huge.find("declares more than 64 GiB of data"), std::string::npos) << huge;
  EXPECT_NE(huge.find(tmp.path + "/huge"), std::string::npos) << huge;
  const std::string big = error_of(write(tmp.path + "/big", idx_bytes({16384, 16384, 200}, "abcd")));
  EXPECT_NE(big.find("truncated: its header declares 53687091200 bytes of data, the file has 4"), std::string::npos)
      << big;
  const IdxHeader h = parse_idx_header(idx_bytes({60000, 28, 28}, ""), "x");
  EXPECT_EQ(h.dims, (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(h.data_bytes, 47040000);
  EXPECT_EQ(idx_header_size(idx_bytes({1, 2}, ""), "x"), 12u);
  EXPECT_THROW(parse_idx_header(idx_bytes({1, 2}, "").substr(0, 10), "x"), UserError);  // cut inside the sizes
}

TEST(Idx, LabelPathNextToImages) {
  test::TempDir tmp("idx_names");
  EXPECT_TRUE(is_idx_images_path("x/train-images-idx3-ubyte.gz"));
  EXPECT_TRUE(is_idx_images_path("t10k-images.idx3-ubyte"));
  EXPECT_FALSE(is_idx_images_path("train-labels-idx1-ubyte.gz"));
  EXPECT_FALSE(is_idx_images_path("images.csv"));
  EXPECT_EQ(idx_labels_path(tmp.path + "/train-images-idx3-ubyte.gz"), tmp.path + "/train-labels-idx1-ubyte.gz");
  // The other compression of the labels file is found when that is what exists.
  write(tmp.path + "/train-labels-idx1-ubyte", idx_bytes({1}, "\x01"));
  EXPECT_EQ(idx_labels_path(tmp.path + "/train-images-idx3-ubyte.gz"), tmp.path + "/train-labels-idx1-ubyte");
  EXPECT_EQ(idx_labels_path("d/t10k-images.idx3-ubyte"), "d/t10k-labels.idx1-ubyte");
}

TEST(Idx, RealFashionMnist) {
  if (!std::filesystem::exists(kFmnist + "train-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  auto labels = read_idx(kFmnist + "train-labels-idx1-ubyte.gz");
  ASSERT_EQ(labels.sizes(), (std::vector<int64_t>{60000}));
  EXPECT_EQ(labels[0].item<int>(), 9);  // the first training image is an ankle boot
  EXPECT_EQ(labels.max().item<int>(), 9);
  auto images = read_idx(kFmnist + "train-images-idx3-ubyte.gz");
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(images[0].sum().item<int64_t>(), 76247);  // checked with python's gzip module
  auto test_images = read_idx(kFmnist + "t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(test_images.size(0), 10000);
  EXPECT_EQ(read_idx(kFmnist + "t10k-labels-idx1-ubyte.gz")[0].item<int>(), 9);
}

}  // namespace
}  // namespace ptft
