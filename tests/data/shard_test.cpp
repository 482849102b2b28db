// Tests for ptft/data/shard.h: uint16/uint32 round trips, the exact header bytes, atomic
// writing, and clear errors for damaged files (short, bad magic/version/dtype, wrong size).
#include "ptft/data/shard.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ptft/core/error.h"

namespace ptft::shard {
namespace {
namespace sfs = std::filesystem;

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (sfs::temp_directory_path() / "ptft-shard-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { sfs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write_bytes(const std::string& p, const std::string& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << b;
}

// The UserError message of `f`, or "" if it did not throw one.
template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.message();
  }
  return "";
}

TEST(ShardDtype, FollowsTheVocabularySize) {
  EXPECT_EQ(dtype_for_vocab(50257), Dtype::kUint16);
  EXPECT_EQ(dtype_for_vocab(65536), Dtype::kUint16);  // ids 0..65535 fit
  EXPECT_EQ(dtype_for_vocab(65537), Dtype::kUint32);
  EXPECT_EQ(dtype_name(Dtype::kUint16), "uint16");
  EXPECT_EQ(dtype_bytes(Dtype::kUint32), 4u);
}

TEST_F(ShardTest, Uint16RoundTripAndHeaderBytes) {
  const std::vector<int32_t> ids = {0, 1, 255, 256, 65535, 42};
  {
    Writer w(path("a.bin"), Dtype::kUint16);
    w.append(ids.data(), 2);
    w.append(std::vector<int32_t>(ids.begin() + 2, ids.end()));
    EXPECT_EQ(w.count(), 6u);
    EXPECT_FALSE(sfs::exists(path("a.bin"))) << "visible before commit";
    w.commit();
  }
  const std::string bytes = read_bytes(path("a.bin"));
  ASSERT_EQ(bytes.size(), 32u + 6 * 2);
  EXPECT_EQ(bytes.substr(0, 8), "PTFTTOK1");
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x01\0\0\0", 4));                 // version 1
  EXPECT_EQ(bytes.substr(12, 4), std::string("\x02\0\0\0", 4));                // dtype 2
  EXPECT_EQ(bytes.substr(16, 8), std::string("\x06\0\0\0\0\0\0\0", 8));        // count 6
  EXPECT_EQ(bytes.substr(24, 8), std::string(8, '\0'));                        // padding
  EXPECT_EQ(bytes.substr(32 + 2 * 4, 2), std::string("\xff\xff"));             // 65535 little-endian
  EXPECT_EQ(bytes.substr(32 + 2 * 3, 2), std::string("\x00\x01", 2));          // 256

  auto r = Reader::open(path("a.bin"));
  EXPECT_EQ(r->dtype(), Dtype::kUint16);
  ASSERT_EQ(r->count(), 6u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(r->at(i), static_cast<uint32_t>(ids[i])) << i;
  std::vector<int64_t> part(3);
  r->read(2, 3, part.data());
  EXPECT_EQ(part, (std::vector<int64_t>{255, 256, 65535}));
}

TEST_F(ShardTest, Uint32RoundTripOfALargeShard) {
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < 300000; ++i) ids.push_back(i * 7 % 200003);  // spans several write buffers
  {
    Writer w(path("b.bin"), Dtype::kUint32);
    w.append(ids);
    w.commit();
  }
  EXPECT_EQ(sfs::file_size(path("b.bin")), 32u + 4 * ids.size());
  auto r = Reader::open(path("b.bin"));
  EXPECT_EQ(r->dtype(), Dtype::kUint32);
  ASSERT_EQ(r->count(), ids.size());
  std::vector<int64_t> all(ids.size());
  r->read(0, all.size(), all.data());
  for (std::size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(all[i], ids[i]) << i;
}

TEST_F(ShardTest, EmptyShardIsValid) {
  {
    Writer w(path("e.bin"), Dtype::kUint16);
    w.commit();
  }
  EXPECT_EQ(Reader::open(path("e.bin"))->count(), 0u);
}

TEST_F(ShardTest, UncommittedWriterLeavesNothing) {
  {
    Writer w(path("c.bin"), Dtype::kUint16);
    w.append(std::vector<int32_t>{1, 2, 3});
  }
  EXPECT_TRUE(sfs::is_empty(dir_)) << "no file and no temporary left behind";
}

TEST_F(ShardTest, IdOutsideTheDtypeIsAnInternalError) {
  Writer w(path("d.bin"), Dtype::kUint16);
  EXPECT_THROW(w.append(std::vector<int32_t>{65536}), InternalError);
  EXPECT_THROW(w.append(std::vector<int32_t>{-1}), InternalError);
}

class DamagedShard : public ShardTest {
 protected:
  void SetUp() override {
    ShardTest::SetUp();
    Writer w(path("good.bin"), Dtype::kUint16);
    w.append(std::vector<int32_t>{1, 2, 3, 4, 5});
    w.commit();
    good_ = read_bytes(path("good.bin"));
  }
  std::string open_error(const std::string& bytes) {
    write_bytes(path("bad.bin"), bytes);
    return user_error([&] { Reader::open(path("bad.bin")); });
  }
  std::string good_;
};

TEST_F(DamagedShard, MissingFile) {
  const std::string msg = user_error([&] { Reader::open(path("nope.bin")); });
  EXPECT_NE(msg.find("nope.bin"), std::string::npos) << msg;
}

TEST_F(DamagedShard, ShorterThanTheHeader) {
  const std::string msg = open_error(good_.substr(0, 20));
  EXPECT_NE(msg.find("bad.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("20 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("32-byte header"), std::string::npos) << msg;
}

TEST_F(DamagedShard, BadMagic) {
  std::string b = good_;
  b.replace(0, 8, "GPT2TOKS");
  const std::string msg = open_error(b);
  EXPECT_NE(msg.find("not a ptft token shard"), std::string::npos) << msg;
  EXPECT_NE(msg.find("GPT2TOKS"), std::string::npos) << msg;
}

TEST_F(DamagedShard, UnknownVersion) {
  std::string b = good_;
  b[8] = 7;
  const std::string msg = open_error(b);
  EXPECT_NE(msg.find("version 7"), std::string::npos) << msg;
}

TEST_F(DamagedShard, UnknownDtype) {
  std::string b = good_;
  b[12] = 3;
  const std::string msg = open_error(b);
  EXPECT_NE(msg.find("dtype 3"), std::string::npos) << msg;
}

TEST_F(DamagedShard, TruncatedBody) {
  const std::string msg = open_error(good_.substr(0, good_.size() - 3));
  // 39 bytes on disk; the header says 5 tokens of 2 bytes = 42 bytes.
  EXPECT_NE(msg.find("bad.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("39 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("5 tokens of 2 bytes = 42 bytes"), std::string::npos) << msg;
}

TEST_F(DamagedShard, TrailingBytes) {
  const std::string msg = open_error(good_ + "xx");
  EXPECT_NE(msg.find("44 bytes"), std::string::npos) << msg;
}

TEST_F(DamagedShard, AbsurdCountDoesNotOverflow) {
  std::string b = good_;
  for (int i = 16; i < 24; ++i) b[i] = '\xff';
  const std::string msg = open_error(b);
  EXPECT_NE(msg.find("18446744073709551615 tokens"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ptft::shard
