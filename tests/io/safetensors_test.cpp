// Tests for ptft/io/safetensors.h: round trips, the exact bytes of the format, every validation
// error (by message text), atomic writes, and the fuzz seed corpus.
#include "ptft/io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "ptft/core/error.h"

namespace st = ptft::safetensors;
namespace stdfs = std::filesystem;
using st::DType;

namespace {

// "<u64 LE length><header><data>": the raw layout, with no padding added.
std::string raw_file(const std::string& header, const std::string& data = {}) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[i] = static_cast<char>(n & 0xFF);
  return out + header + data;
}
std::string raw_len(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i, n >>= 8) out[i] = static_cast<char>(n & 0xFF);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs `fn`, expects a UserError whose message contains every one of `parts` and which has a
// hint; returns the message.
std::string expect_user_error(const std::function<void()>& fn,
                              std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const ptft::UserError& e) {
    for (const auto& p : parts)
      EXPECT_TRUE(contains(e.message(), p)) << "message: " << e.message() << "\nmissing: " << p;
    EXPECT_FALSE(e.hint().empty()) << "no hint for: " << e.message();
    return e.message();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected UserError, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected UserError, nothing was thrown";
  return {};
}

// A header that must be rejected: the message names the file and contains `parts`.
void expect_bad(const std::string& bytes, std::initializer_list<std::string> parts) {
  SCOPED_TRACE("bytes: " + bytes.substr(0, 200));
  const std::string msg =
      expect_user_error([&] { st::File::from_bytes(bytes, "bad.safetensors"); }, parts);
  EXPECT_TRUE(contains(msg, "'bad.safetensors'")) << msg;
}

// A fresh directory per test under ::testing::TempDir().
class SafetensorsFs : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = stdfs::path(::testing::TempDir()) /
           ("ptft_st_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  stdfs::path dir_;
};

std::vector<uint8_t> pattern(std::size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 31 * i);
  return v;
}

const DType kDTypes[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                         DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};

}  // namespace

// --- dtypes ---------------------------------------------------------------------------------

TEST(SafetensorsDType, SizesNamesAndParse) {
  const std::pair<DType, std::pair<const char*, std::size_t>> expected[] = {
      {DType::F64, {"F64", 8}}, {DType::F32, {"F32", 4}}, {DType::F16, {"F16", 2}},
      {DType::BF16, {"BF16", 2}}, {DType::I64, {"I64", 8}}, {DType::I32, {"I32", 4}},
      {DType::I16, {"I16", 2}}, {DType::I8, {"I8", 1}},   {DType::U8, {"U8", 1}},
      {DType::BOOL, {"BOOL", 1}}};
  for (const auto& [dt, ns] : expected) {
    EXPECT_STREQ(st::dtype_name(dt), ns.first);
    EXPECT_EQ(st::dtype_size(dt), ns.second);
    EXPECT_EQ(st::parse_dtype(ns.first), dt);
  }
  expect_user_error([] { st::parse_dtype("f32"); },
                    {"unknown dtype 'f32'", "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL"});
  expect_user_error([] { st::parse_dtype("U32"); }, {"unknown dtype 'U32'"});
}

TEST(SafetensorsDType, NumelOfScalarZeroSizeAndHuge) {
  st::TensorInfo t;
  t.shape = {};
  EXPECT_EQ(t.numel(), 1);
  t.shape = {2, 0, 5};
  EXPECT_EQ(t.numel(), 0);
  t.shape = {int64_t(1) << 40, int64_t(1) << 40, 0};  // intermediate product would overflow
  EXPECT_EQ(t.numel(), 0);
  t.shape = {3, 4, 5};
  EXPECT_EQ(t.numel(), 60);
  t.shape = {int64_t(1) << 32, int64_t(1) << 31};
  expect_user_error([&] { (void)t.numel(); }, {"2^63-1"});
}

// --- round trips ----------------------------------------------------------------------------

TEST(Safetensors, RoundTripEveryDtypeScalarZeroSizeAndMetadata) {
  std::vector<std::vector<uint8_t>> storage;
  std::vector<st::TensorRef> refs;
  uint8_t seed = 1;
  for (DType dt : kDTypes) {
    const std::string n = st::dtype_name(dt);
    // (2,3) matrix, scalar, zero-size: all per dtype.
    storage.push_back(pattern(6 * st::dtype_size(dt), seed++));
    refs.push_back({"m." + n, dt, {2, 3}, storage.back().data(), storage.back().size()});
    storage.push_back(pattern(st::dtype_size(dt), seed++));
    refs.push_back({"s." + n, dt, {}, storage.back().data(), storage.back().size()});
    refs.push_back({"z." + n, dt, {0, 4}, nullptr, 0});
  }
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "héllo \"q\"\n"}};
  const std::string bytes = st::serialize(refs, meta);
  auto f = st::File::from_bytes(bytes, "rt.safetensors");

  EXPECT_EQ(f->path(), "rt.safetensors");
  EXPECT_EQ(f->metadata(), meta);
  ASSERT_EQ(f->tensors().size(), refs.size());
  uint64_t prev_end = 0;
  for (const auto& t : f->tensors()) {  // data-offset order, tiling the data section
    EXPECT_EQ(t.begin, prev_end) << t.name;
    prev_end = t.end;
  }
  EXPECT_EQ(prev_end, f->data_size());
  for (const auto& r : refs) {
    SCOPED_TRACE(r.name);
    const st::TensorInfo& t = f->at(r.name);
    EXPECT_EQ(f->find(r.name), &t);
    EXPECT_EQ(t.dtype, r.dtype);
    EXPECT_EQ(t.shape, r.shape);
    EXPECT_EQ(t.nbytes(), r.nbytes);
    EXPECT_EQ(static_cast<std::size_t>(t.numel()) * st::dtype_size(t.dtype), r.nbytes);
    if (r.nbytes > 0) {
      EXPECT_EQ(std::memcmp(f->data(t), r.data, r.nbytes), 0);
    }
  }
  EXPECT_EQ(f->find("absent"), nullptr);
  // Serialising what was read gives the same bytes (the header lists data in order given).
  std::vector<st::TensorRef> again;
  for (const auto& r : refs) {
    const auto& t = f->at(r.name);
    again.push_back({t.name, t.dtype, t.shape, f->data(t), t.nbytes()});
  }
  EXPECT_EQ(st::serialize(again, f->metadata()), bytes);
}

TEST(Safetensors, EmptyFileHasNoTensors) {
  const std::string bytes = st::serialize({});
  EXPECT_EQ(bytes, raw_len(8) + "{}      ");
  auto f = st::File::from_bytes(bytes);
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_TRUE(f->metadata().empty());
  expect_user_error([&] { f->at("x"); }, {"no tensor 'x'", "holds no tensors", "<memory>"});
}

TEST(Safetensors, HeaderIsAlignedAndPaddedWithSpaces) {
  const float v = 1.5f;
  for (std::size_t len = 1; len <= 17; ++len) {
    SCOPED_TRACE(len);
    const std::string bytes =
        st::serialize({{std::string(len, 'n'), DType::F32, {}, &v, sizeof v}});
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
    EXPECT_EQ(n % 8, 0u);
    ASSERT_EQ(bytes.size(), 8 + n + sizeof v);
    const std::string header = bytes.substr(8, n);
    const auto close = header.rfind('}');
    EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << header;
    EXPECT_LT(n - 1 - close, 8u);
    EXPECT_EQ(std::memcmp(bytes.data() + 8 + n, &v, sizeof v), 0);
  }
}

// The reference check: the exact bytes the format spec (and the Rust/Python writers) produce.
TEST(Safetensors, SerializeMatchesHandWrittenBytes) {
  const float a[2] = {1.0f, -2.0f};  // little endian: 00 00 80 3f, 00 00 00 c0
  const uint8_t bc = 7;
  const std::string got = st::serialize(
      {{"a", DType::F32, {2}, a, sizeof a}, {"bc", DType::U8, {}, &bc, 1}}, {{"format", "pt"}});
  // 137 bytes of JSON + 7 spaces = 144 = 0x90.
  const std::string expected =
      std::string("\x90\x00\x00\x00\x00\x00\x00\x00", 8) +
      R"({"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("bc":{"dtype":"U8","shape":[],"data_offsets":[8,9]}})"
      "       " +
      std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0\x07", 9);
  EXPECT_EQ(got, expected);

  auto f = st::File::from_bytes(expected);
  EXPECT_EQ(f->header_size(), 144u);
  EXPECT_EQ(f->data_size(), 9u);
  const auto& ta = f->at("a");
  float back[2];
  std::memcpy(back, f->data(ta), sizeof back);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.0f);
  EXPECT_EQ(*f->data(f->at("bc")), 7);
  EXPECT_EQ(f->metadata().at("format"), "pt");
}

// Other writers order fields differently, use whitespace and list tensors in any order.
TEST(Safetensors, ReadsHeadersFromOtherWriters) {
  const std::string header =
      "{ \"z\" : {\"shape\": [1], \"data_offsets\": [0, 2], \"dtype\": \"BF16\"},\n"
      "  \"a\" : {\"data_offsets\": [2, 3], \"dtype\": \"BOOL\", \"shape\": []},\n"
      "  \"e1\": {\"dtype\": \"I64\", \"shape\": [0], \"data_offsets\": [3, 3]},\n"
      "  \"e0\": {\"dtype\": \"I8\", \"shape\": [3, 0], \"data_offsets\": [3, 3]},\n"
      "  \"__metadata__\": {}}\t\r\n ";
  auto f = st::File::from_bytes(raw_file(header, std::string("\x80\x3f\x01", 3)));
  ASSERT_EQ(f->tensors().size(), 4u);
  // data-offset order; zero-size tensors at the same offset by name.
  EXPECT_EQ(f->tensors()[0].name, "z");
  EXPECT_EQ(f->tensors()[1].name, "a");
  EXPECT_EQ(f->tensors()[2].name, "e0");
  EXPECT_EQ(f->tensors()[3].name, "e1");
  EXPECT_EQ(f->at("z").dtype, DType::BF16);
  EXPECT_EQ(f->at("a").numel(), 1);
  EXPECT_EQ(f->at("e0").numel(), 0);
  EXPECT_EQ(*f->data(f->at("a")), 1);
  EXPECT_TRUE(f->metadata().empty());
}

TEST(Safetensors, AtListsCloseNames) {
  const float x = 0;
  std::vector<st::TensorRef> refs;
  for (const char* n : {"h.0.attn.weight", "h.0.mlp.weight", "h.1.attn.weight", "wte.weight",
                        "wpe.weight", "ln_f.bias", "ln_f.weight"})
    refs.push_back({n, DType::F32, {}, &x, 4});
  auto f = st::File::from_bytes(st::serialize(refs), "gpt.safetensors");
  const std::string msg = expect_user_error(
      [&] { f->at("h.0.attn.wieght"); },
      {"'gpt.safetensors'", "no tensor 'h.0.attn.wieght'", "'h.0.attn.weight'", "7 tensors"});
  EXPECT_FALSE(contains(msg, "ln_f.bias")) << msg;  // only a few, the closest
}

// --- validation: each error, by its message ------------------------------------------------

TEST(SafetensorsValidation, LengthPrefix) {
  expect_bad("", {"0 bytes", "shorter than the 8-byte header length"});
  expect_bad("abc", {"3 bytes", "shorter than the 8-byte header length"});
  expect_bad(raw_len(0) + "{}", {"header length is 0"});
  expect_bad(raw_len(100'000'001) + "{}", {"header length 100000001 exceeds the limit of 100000000"});
  expect_bad(raw_len(~uint64_t(0)) + "{}", {"header length 18446744073709551615 exceeds"});
  expect_bad(raw_len(100) + std::string(12, ' '),
             {"header length 100 runs past the end of the file", "8 + 100 > file size 20"});
  expect_bad(raw_len(100'000'000) + "{}", {"8 + 100000000 > file size 10"});
  expect_bad(raw_len(3) + "{}", {"8 + 3 > file size 10"});
}

TEST(SafetensorsValidation, HeaderJson) {
  expect_bad(raw_file("{\"a\xff\":1}"), {"not valid UTF-8", "0xff", "header offset 3"});
  expect_bad(raw_file("{\"\xc0\xaf\":1}"), {"not valid UTF-8", "0xc0"});  // overlong '/'
  expect_bad(raw_file("{\"\xed\xa0\x80\":1}"), {"not valid UTF-8"});     // a surrogate
  expect_bad(raw_file("[1, 2]"), {"does not start with '{'", "0x5b"});
  expect_bad(raw_file(" {}"), {"does not start with '{'", "0x20"});
  expect_bad(raw_file("{abc}"), {"header is not valid JSON", "parse error"});
  expect_bad(raw_file("{\"a\": 1"), {"header is not valid JSON"});
  expect_bad(raw_file("{} x"), {"header is not valid JSON"});
  expect_bad(raw_file(std::string("{}\0\0", 4)), {"not valid JSON: NUL byte at header offset 2"});
  expect_bad(raw_file(std::string("{\"a\0\":1}", 8)), {"NUL byte at header offset 3"});
  expect_bad(raw_file("{\"a\":\"\\ud800\"}"), {"header is not valid JSON"});  // lone surrogate
  expect_bad(raw_file("{\"a\":[[[[[1]]]]]}"), {"nests deeper than 4 levels"});
  expect_bad(raw_file("{\"a\":" + std::string(5000, '[')), {"nests deeper"});
  expect_bad(raw_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{}})", "x"),
             {"duplicate key 'a'", "only once"});
  expect_bad(raw_file(R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"),
             {"duplicate key 'dtype'"});
}

TEST(SafetensorsValidation, Metadata) {
  expect_bad(raw_file(R"({"__metadata__":[]})"), {"__metadata__ is a JSON array"});
  expect_bad(raw_file(R"({"__metadata__":null})"), {"__metadata__ is a JSON null"});
  expect_bad(raw_file(R"({"__metadata__":{"k":"v","n":1}})"),
             {"__metadata__ value for key 'n' is a JSON number", "only strings"});
  expect_bad(raw_file(R"({"__metadata__":{"k":{"x":"y"}}})"), {"key 'k' is a JSON object"});
}

TEST(SafetensorsValidation, TensorEntries) {
  const std::string d4(4, 'x');
  expect_bad(raw_file(R"({"a":5})"), {"tensor 'a' is a JSON number", "expected an object"});
  expect_bad(raw_file(R"({"a":[]})"), {"tensor 'a' is a JSON array"});
  expect_bad(raw_file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", d4),
             {"tensor 'a' is missing the field 'dtype'"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", d4),
             {"missing the field 'shape'"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[1]}})", d4),
             {"missing the field 'data_offsets'"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", d4),
             {"tensor 'a' has an unexpected field 'x'"});
  expect_bad(raw_file(R"({"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", d4),
             {"tensor 'a': unknown dtype 'F8_E4M3'", "valid: F64, F32"});
  expect_bad(raw_file(R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", d4),
             {"dtype is a JSON number"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", d4),
             {"shape is a JSON number", "non-negative integers"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", d4),
             {"shape [-1] is not an array of non-negative integers"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", d4),
             {"is not an array of non-negative integers", "bad entry 1.0"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", d4),
             {"bad entry \"1\""});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}})", d4),
             {"bad entry [1]"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]}})", d4),
             {"below 2^63"});
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}})", d4),
             {"header is not valid JSON"});  // nlohmann rejects out-of-range floats
  for (const char* off : {"[0]", "[0,4,8]", "[-1,4]", "\"0-4\"", "[0,4.5]", "{}", "null"}) {
    expect_bad(raw_file(std::string(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":)") + off +
                        "}}", d4),
               {"tensor 'a': data_offsets", "is not [begin, end] with two non-negative integers"});
  }
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", d4),
             {"data_offsets [4, 0] has begin > end"});
}

TEST(SafetensorsValidation, SizesAndOverflow) {
  const std::string d8(8, 'x');
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", d8.substr(4)),
             {"tensor 'a': data_offsets [0, 4] span 4 bytes but dtype F32 with shape [2] needs 8 "
              "bytes (2 elements x 4 bytes)"});
  expect_bad(raw_file(R"({"a":{"dtype":"BF16","shape":[],"data_offsets":[0,4]}})", d8.substr(4)),
             {"needs 2 bytes"});
  // numel overflow: 2^32 * 2^32 = 2^64.
  expect_bad(raw_file(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", d8),
             {"shape [4294967296, 4294967296] has more than 2^63-1 elements", "overflows"});
  // numel fits, nbytes does not: 2^61 * 8 = 2^64.
  expect_bad(raw_file(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})", d8),
             {"needs more than 2^64 bytes"});
  // nbytes wraps around to exactly end-begin if computed modulo 2^64: must still fail.
  expect_bad(raw_file(R"({"a":{"dtype":"F64","shape":[2305843009213693953],"data_offsets":[0,8]}})", d8),
             {"needs more than 2^64 bytes"});
  // A huge but consistent tensor: the offsets are outside the file.
  expect_bad(raw_file(R"({"a":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,18446744073709551615]}})"),
             {"below 2^63"});
  expect_bad(raw_file(R"({"a":{"dtype":"U8","shape":[4611686018427387904],"data_offsets":[0,4611686018427387904]}})", d8),
             {"data_offsets [0, 4611686018427387904] lie outside the data section (8 bytes"});
}

TEST(SafetensorsValidation, LayoutOutsideOverlapGap) {
  const char* a04 = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  // Truncated data.
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"),
             {"tensor 'a': data_offsets [0, 8] lie outside the data section (4 bytes"});
  // Overlap.
  expect_bad(raw_file(std::string("{") + a04 +
                          R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                      "123456"),
             {"tensor 'b': data_offsets [2, 6] overlap tensor 'a' at [0, 4]"});
  // The same bytes claimed twice.
  expect_bad(raw_file(std::string("{") + a04 +
                          R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                      "1234"),
             {"overlap"});
  // A zero-size tensor inside another one.
  expect_bad(raw_file(std::string("{") + a04 +
                          R"(,"b":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}})",
                      "1234"),
             {"tensor 'b': data_offsets [2, 2] overlap tensor 'a'"});
  // Gap in the middle.
  expect_bad(raw_file(std::string("{") + a04 +
                          R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                      "123456789012"),
             {"gap of 4 bytes", "[4, 8)", "before tensor 'b'"});
  // Gap at the start.
  expect_bad(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", "12345678"),
             {"gap of 4 bytes", "[0, 4)"});
  // Gap at the end (trailing bytes), and data with no tensors at all.
  expect_bad(raw_file(std::string("{") + a04 + "}", "12345678"),
             {"gap of 4 bytes at the end of the data section", "tensors end at offset 4",
              "data section has 8 bytes"});
  expect_bad(raw_file("{}", "x"), {"gap of 1 bytes at the end"});
  // A zero-size tensor past the end of the data.
  expect_bad(raw_file(std::string("{") + a04 +
                          R"(,"z":{"dtype":"F32","shape":[0],"data_offsets":[6,6]}})",
                      "1234"),
             {"tensor 'z': data_offsets [6, 6] lie outside"});
}

TEST(SafetensorsValidation, ScalarsAndZeroSizeAreValid) {
  auto f = st::File::from_bytes(raw_file(
      R"({"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},)"
      R"("z0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
      R"("z1":{"dtype":"I16","shape":[7,0,3],"data_offsets":[8,8]}})",
      std::string(8, '\0')));
  EXPECT_EQ(f->at("s").numel(), 1);
  EXPECT_EQ(f->at("z0").nbytes(), 0u);
  EXPECT_EQ(f->at("z1").shape, (std::vector<int64_t>{7, 0, 3}));
  // Only zero-size tensors and no data.
  auto g = st::File::from_bytes(
      raw_file(R"({"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})"));
  EXPECT_EQ(g->tensors().size(), 1u);
}

// --- serialize/write validation ---------------------------------------------------------

TEST(SafetensorsWrite, RejectsBadTensors) {
  const float v[2] = {1, 2};
  expect_user_error([&] {
    st::serialize({{"a", DType::F32, {2}, v, 8}, {"a", DType::F32, {2}, v, 8}});
  }, {"tensor name 'a' appears twice"});
  expect_user_error([&] { st::serialize({{"__metadata__", DType::F32, {2}, v, 8}}); },
                    {"'__metadata__'", "reserves"});
  expect_user_error([&] { st::serialize({{"a", DType::F32, {3}, v, 8}}); },
                    {"tensor 'a': nbytes is 8 but dtype F32 with shape [3] needs 12 bytes"});
  expect_user_error([&] { st::serialize({{"a", DType::F32, {-2}, v, 8}}); },
                    {"tensor 'a': shape [-2] has a negative dimension"});
  expect_user_error([&] { st::serialize({{"a", DType::F64, {int64_t(1) << 62}, v, 8}}); },
                    {"needs more than 2^64 bytes"});
  expect_user_error([&] { st::serialize({{"a", DType::F32, {2}, nullptr, 8}}); },
                    {"data is null"});
  expect_user_error([&] { st::serialize({{"a\xff", DType::F32, {2}, v, 8}}); },
                    {"not valid UTF-8"});
  expect_user_error([&] { st::serialize({}, {{"k", "\xc3"}}); }, {"metadata entry 'k'"});
}

TEST_F(SafetensorsFs, WriteThenOpenMapsTheFile) {
  std::vector<int32_t> v = {1, -2, 3, -4, 5, -6};
  const std::string p = path("w.safetensors");
  st::write(p, {{"v", DType::I32, {2, 3}, v.data(), v.size() * 4}, {"e", DType::BOOL, {0}, nullptr, 0}},
            {{"step", "10"}});
  // write() and serialize() produce the same bytes.
  EXPECT_EQ(slurp(p), st::serialize({{"v", DType::I32, {2, 3}, v.data(), v.size() * 4},
                                     {"e", DType::BOOL, {0}, nullptr, 0}},
                                    {{"step", "10"}}));
  auto f = st::File::open(p);
  EXPECT_EQ(f->path(), p);
  EXPECT_EQ(f->metadata().at("step"), "10");
  const auto& t = f->at("v");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f->data(t), v.data(), 24), 0);
  // MAP_PRIVATE: a stray write through the mapping never reaches the file.
  auto* p0 = const_cast<uint8_t*>(f->data(t));
  p0[0] = 0x55;
  EXPECT_EQ(*f->data(t), 0x55);
  f.reset();
  const std::string disk = slurp(p);
  EXPECT_EQ(std::memcmp(disk.data() + disk.size() - 24, v.data(), 24), 0);
}

TEST_F(SafetensorsFs, WriteIsAtomicAndLeavesNoTemporaries) {
  const std::string p = path("model.safetensors");
  const uint8_t first[3] = {1, 2, 3};
  const double second = 2.5;
  st::write(p, {{"x", DType::U8, {3}, first, 3}});
  st::write(p, {{"y", DType::F64, {}, &second, 8}}, {{"v", "2"}});
  auto f = st::File::open(p);
  EXPECT_EQ(f->find("x"), nullptr);
  double got = 0;
  std::memcpy(&got, f->data(f->at("y")), 8);
  EXPECT_EQ(got, 2.5);
  EXPECT_EQ(f->metadata().at("v"), "2");
  for (const auto& e : stdfs::directory_iterator(dir_))
    EXPECT_FALSE(contains(e.path().filename().string(), ".tmp-")) << e.path();
  // A failed write (bad tensor) leaves the previous file intact and no temporary.
  expect_user_error([&] { st::write(p, {{"x", DType::F32, {3}, first, 3}}); },
                    {"writing safetensors file '" + p + "'", "needs 12 bytes"});
  EXPECT_NE(st::File::open(p)->find("y"), nullptr);
  std::size_t entries = 0;
  for (const auto& e : stdfs::directory_iterator(dir_)) entries += e.exists();
  EXPECT_EQ(entries, 1u);
}

TEST_F(SafetensorsFs, WriteIntoMissingDirectoryNamesIt) {
  const std::string missing = path("no/such/dir");
  const uint8_t b = 1;
  expect_user_error([&] { st::write(missing + "/m.safetensors", {{"b", DType::U8, {}, &b, 1}}); },
                    {"directory '" + missing + "' does not exist"});
  EXPECT_FALSE(stdfs::exists(missing));
  // A path whose parent is a file.
  std::ofstream(path("plain")) << "x";
  expect_user_error([&] { st::write(path("plain") + "/m.safetensors", {{"b", DType::U8, {}, &b, 1}}); },
                    {"'" + path("plain") + "' is not a directory"});
}

TEST_F(SafetensorsFs, OpenErrorsNameTheFile) {
  expect_user_error([&] { st::File::open(path("absent.safetensors")); },
                    {"cannot open safetensors file '" + path("absent.safetensors") + "'",
                     "No such file"});
  expect_user_error([&] { st::File::open(dir_.string()); }, {"is not a regular file"});
  std::ofstream(path("empty.safetensors")).close();
  expect_user_error([&] { st::File::open(path("empty.safetensors")); },
                    {"'" + path("empty.safetensors") + "'", "0 bytes"});
  // A valid file cut short.
  const float v[4] = {1, 2, 3, 4};
  const std::string full = st::serialize({{"v", DType::F32, {4}, v, 16}});
  std::ofstream(path("cut.safetensors"), std::ios::binary) << full.substr(0, full.size() - 3);
  expect_user_error([&] { st::File::open(path("cut.safetensors")); },
                    {"'" + path("cut.safetensors") + "'", "lie outside the data section (13 bytes"});
}

// --- the fuzz seed corpus -----------------------------------------------------------------

// valid_* seeds parse, invalid_* seeds are rejected with a UserError; keeps the corpus honest.
TEST(SafetensorsCorpus, SeedsParseOrFailAsNamed) {
  const stdfs::path dir = stdfs::path(PTFT_SOURCE_DIR) / "tests/io/fuzz_corpus";
  ASSERT_TRUE(stdfs::is_directory(dir)) << dir;
  int valid = 0, invalid = 0;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    SCOPED_TRACE(name);
    EXPECT_LT(e.file_size(), 4096u);
    if (name.rfind("valid_", 0) == 0) {
      ++valid;
      auto f = st::File::open(e.path().string());
      EXPECT_FALSE(f->path().empty());
    } else if (name.rfind("invalid_", 0) == 0) {
      ++invalid;
      expect_user_error([&] { st::File::open(e.path().string()); }, {name});
    } else {
      ADD_FAILURE() << "corpus file not named valid_* or invalid_*: " << name;
    }
  }
  EXPECT_GE(valid, 3);
  EXPECT_GE(invalid, 5);
}
