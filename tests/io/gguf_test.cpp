// Tests for ptft/io/gguf.h: round trips of every value type and of F32/F16/BF16 tensors, the
// exact bytes of the format, every validation error on hand-built files, quantised tensors,
// typed accessors, atomic writes, and the fuzz seed corpus.
#include "ptft/io/gguf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../common/files.h"
#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/error.h"

namespace gguf = ptft::gguf;
namespace test = ptft::test;
using gguf::GgmlType;
using gguf::ValueType;

namespace {

// A GGUF file spelled out byte by byte, for inputs the writer would never produce.
struct Raw {
  std::string s;
  template <class T>
  Raw& num(T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Raw& u32(uint32_t v) { return num(v); }
  Raw& u64(uint64_t v) { return num(v); }
  Raw& str(const std::string& v) {
    u64(v.size());
    s += v;
    return *this;
  }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    s += "GGUF";
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(std::size_t alignment = 32) {
    s.resize((s.size() + alignment - 1) / alignment * alignment, '\0');
    return *this;
  }
  Raw& zeros(std::size_t n) {
    s.append(n, '\0');
    return *this;
  }
};

std::shared_ptr<gguf::File> parse(const std::string& bytes) { return gguf::File::from_bytes(bytes, "t.gguf"); }

// The message of the UserError parsing `bytes` throws; it must name the file and have a hint.
std::string parse_error(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const ptft::UserError& e) {
    EXPECT_TRUE(test::contains(e.message(), "GGUF file 't.gguf'")) << e.message();
    EXPECT_FALSE(e.hint().empty()) << e.message();
    return e.message();
  }
  ADD_FAILURE() << "expected a UserError";
  return {};
}

std::vector<uint8_t> bytes_of(const void* p, std::size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return {b, b + n};
}

// The one metadata entry and two F32 tensors used by the layout and truncation tests.
gguf::Writer small_writer(const std::vector<float>& a, const std::vector<float>& b) {
  gguf::Writer w;
  w.set("general.architecture", "llama");
  w.set("tokenizer.ggml.tokens", std::vector<std::string>{"<s>", "a"});
  w.add_tensor("a", GgmlType::F32, {3}, a.data(), a.size() * 4);
  w.add_tensor("b", GgmlType::F32, {2, 2}, b.data(), b.size() * 4);
  return w;
}

}  // namespace

// --- types ----------------------------------------------------------------------------------

TEST(GgufTypes, GgmlTableMatchesGgmlsBlockLayouts) {
  struct Row { uint32_t id; const char* name; uint32_t block, bytes; };
  // Sizes from ggml-common.h (sizeof(block_*)); QK_K = 256.
  for (const Row& r : {Row{0, "F32", 1, 4}, Row{1, "F16", 1, 2}, Row{2, "Q4_0", 32, 18}, Row{8, "Q8_0", 32, 34},
                       Row{12, "Q4_K", 256, 144}, Row{14, "Q6_K", 256, 210}, Row{23, "IQ4_XS", 256, 136},
                       Row{28, "F64", 1, 8}, Row{30, "BF16", 1, 2}, Row{39, "MXFP4", 32, 17}}) {
    const gguf::GgmlTypeInfo* t = gguf::find_ggml_type(r.id);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_STREQ(t->name, r.name);
    EXPECT_EQ(t->block_size, r.block) << r.name;
    EXPECT_EQ(t->block_bytes, r.bytes) << r.name;
  }
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 1000u})
    EXPECT_EQ(gguf::find_ggml_type(removed), nullptr) << removed;
  EXPECT_EQ(gguf::ggml_nbytes(GgmlType::Q4_K, 2 * 512, 512), 2u * 2 * 144);
  EXPECT_TRUE(test::contains(test::user_error_of([] { gguf::ggml_nbytes(GgmlType::Q8_0, 33, 33); }),
                             "multiple of 32"));
  EXPECT_STREQ(gguf::value_type_name(ValueType::FLOAT64), "FLOAT64");
  EXPECT_FALSE(gguf::is_value_type(13));
}

// --- round trips ----------------------------------------------------------------------------

TEST(GgufRoundTrip, EveryValueTypeInOrder) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  gguf::Writer w;
  w.set("u8", uint8_t{255});
  w.set("i8", int8_t{-128});
  w.set("u16", uint16_t{65535});
  w.set("i16", int16_t{-32768});
  w.set("u32", uint32_t{4000000000u});
  w.set("i32", int32_t{-2000000000});
  w.set("f32", 1.5f);
  w.set("bool", true);
  w.set("str", std::string("h\xc3\xa9llo\0x", 8));  // UTF-8 and an embedded NUL
  w.set("u64", uint64_t{18446744073709551615ull});
  w.set("i64", int64_t{-9223372036854775807ll - 1});
  w.set("f64", -0.1);
  w.set("a.u8", std::vector<uint8_t>{0, 1, 255});
  w.set("a.i8", std::vector<int8_t>{-1, 2});
  w.set("a.u16", std::vector<uint16_t>{7});
  w.set("a.i16", std::vector<int16_t>{-7, 8});
  w.set("a.u32", std::vector<uint32_t>{1, 2, 3});
  w.set("a.i32", std::vector<int32_t>{-1, 0, 1});
  w.set("a.f32", std::vector<float>{0.25f, nan, -0.0f});
  w.set("a.bool", std::vector<bool>{true, false, true});
  w.set("a.str", std::vector<std::string>{"<s>", "", "\xe2\x96\x81hi"});
  w.set("a.u64", std::vector<uint64_t>{1ull << 63});
  w.set("a.i64", std::vector<int64_t>{-5});
  w.set("a.f64", std::vector<double>{1e300, -2.5});
  w.set("empty.u32", std::vector<uint32_t>{});
  w.set("empty.str", std::vector<std::string>{});
  w.set("empty.f64", gguf::Value::empty_array(ValueType::FLOAT64));

  test::TempDir tmp("gguf_values");
  const std::string path = tmp.path + "/v.gguf";
  w.write(path);
  EXPECT_EQ(test::read_text(path), w.to_bytes());
  auto f = gguf::File::open(path);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_TRUE(f->tensors().empty());

  const std::vector<std::string> order = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "u64", "i64",
                                          "f64", "a.u8", "a.i8", "a.u16", "a.i16", "a.u32", "a.i32", "a.f32",
                                          "a.bool", "a.str", "a.u64", "a.i64", "a.f64", "empty.u32", "empty.str",
                                          "empty.f64"};
  ASSERT_EQ(f->metadata().size(), order.size());
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(f->metadata()[i].first, order[i]);

  EXPECT_EQ(f->get_u8("u8"), 255);
  EXPECT_EQ(f->get_i8("i8"), -128);
  EXPECT_EQ(f->get_u16("u16"), 65535);
  EXPECT_EQ(f->get_i16("i16"), -32768);
  EXPECT_EQ(f->get_u32("u32"), 4000000000u);
  EXPECT_EQ(f->get_i32("i32"), -2000000000);
  EXPECT_EQ(f->get_f32("f32"), 1.5f);
  EXPECT_TRUE(f->get_bool("bool"));
  EXPECT_EQ(f->get_string("str"), std::string("h\xc3\xa9llo\0x", 8));
  EXPECT_EQ(f->get_u64("u64"), 18446744073709551615ull);
  EXPECT_EQ(f->get_i64("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->get_f64("f64"), -0.1);
  EXPECT_EQ(f->get_array<uint8_t>("a.u8"), (std::vector<uint8_t>{0, 1, 255}));
  EXPECT_EQ(f->get_array<int8_t>("a.i8"), (std::vector<int8_t>{-1, 2}));
  EXPECT_EQ(f->get_array<uint16_t>("a.u16"), (std::vector<uint16_t>{7}));
  EXPECT_EQ(f->get_array<int16_t>("a.i16"), (std::vector<int16_t>{-7, 8}));
  EXPECT_EQ(f->get_array<uint32_t>("a.u32"), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(f->get_array<int32_t>("a.i32"), (std::vector<int32_t>{-1, 0, 1}));
  const auto fl = f->get_array<float>("a.f32");
  ASSERT_EQ(fl.size(), 3u);
  EXPECT_EQ(fl[0], 0.25f);
  EXPECT_TRUE(std::isnan(fl[1]));
  EXPECT_TRUE(std::signbit(fl[2]));
  EXPECT_EQ(f->get_array<bool>("a.bool"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(f->get_array_of_strings("a.str"), (std::vector<std::string>{"<s>", "", "\xe2\x96\x81hi"}));
  EXPECT_EQ(f->get_array<uint64_t>("a.u64"), (std::vector<uint64_t>{1ull << 63}));
  EXPECT_EQ(f->get_array<int64_t>("a.i64"), (std::vector<int64_t>{-5}));
  EXPECT_EQ(f->get_array<double>("a.f64"), (std::vector<double>{1e300, -2.5}));
  EXPECT_TRUE(f->get_array<uint32_t>("empty.u32").empty());
  EXPECT_TRUE(f->get_array_of_strings("empty.str").empty());
  EXPECT_EQ(f->at("empty.f64").array_type(), ValueType::FLOAT64);
  EXPECT_EQ(f->at("empty.f64").array_size(), 0u);
  EXPECT_EQ(f->at("a.str").type_name(), "ARRAY of STRING");

  // Reading and writing back changes no byte.
  gguf::Writer again;
  for (const auto& [k, v] : f->metadata()) again.set(k, v);
  EXPECT_EQ(again.to_bytes(), w.to_bytes());
}

TEST(GgufRoundTrip, FloatTensorsOneToFourDimsBitIdentical) {
  std::vector<float> f32(2 * 3 * 4 * 5);
  for (std::size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<float>(i) * 0.5f - 7.0f;
  // F16: 1, -2, +inf, the smallest subnormal (2^-24), 0.33325195 (0x3555), -0 ; BF16: 1, -pi.
  const std::vector<uint16_t> f16 = {0x3c00, 0xc000, 0x7c00, 0x0001, 0x3555, 0x8000};
  const std::vector<uint16_t> bf16 = {0x3f80, 0xc049, 0x0000, 0x4000};
  std::vector<float> one = {42.0f};

  gguf::Writer w;
  w.add_tensor("t1", GgmlType::F32, {5}, f32.data(), 5 * 4);
  w.add_tensor("t4", GgmlType::F32, {2, 3, 4, 5}, f32.data(), f32.size() * 4);
  w.add_tensor("h2", GgmlType::F16, {2, 3}, f16.data(), f16.size() * 2);
  w.add_tensor("b3", GgmlType::BF16, {1, 2, 2}, bf16.data(), bf16.size() * 2);
  w.add_tensor("s", GgmlType::F32, {1}, one.data(), 4);
  auto f = parse(w.to_bytes());

  ASSERT_EQ(f->tensors().size(), 5u);
  EXPECT_EQ(f->tensors()[0].name, "t1");
  EXPECT_EQ(f->tensor("t4").shape, (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(f->tensor("h2").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f->tensor("b3").shape, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(f->tensor("t4").nbytes, f32.size() * 4);
  EXPECT_EQ(f->tensor("t4").numel(), 120);
  for (const auto& t : f->tensors()) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ((f->data_offset() + t.offset) % 32, 0u) << t.name;
  }
  EXPECT_EQ(f->tensor("t1").offset, 0u);
  EXPECT_EQ(f->tensor("t4").offset, 32u);  // 20 bytes padded to 32
  EXPECT_EQ(bytes_of(f->data(f->tensor("t4")), f32.size() * 4), bytes_of(f32.data(), f32.size() * 4));
  EXPECT_EQ(bytes_of(f->data(f->tensor("h2")), 12), bytes_of(f16.data(), 12));
  EXPECT_EQ(bytes_of(f->data(f->tensor("b3")), 8), bytes_of(bf16.data(), 8));

  EXPECT_EQ(f->to_float(f->tensor("t4")), f32);
  const auto h = f->to_float(f->tensor("h2"));
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_TRUE(std::isinf(h[2]) && h[2] > 0);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(h[4], 0.333251953125f);
  EXPECT_TRUE(h[5] == 0.0f && std::signbit(h[5]));
  EXPECT_EQ(f->to_float(f->tensor("b3")), (std::vector<float>{1.0f, -3.140625f, 0.0f, 2.0f}));
  std::vector<float> buf(1);
  f->to_float(f->tensor("s"), buf.data(), buf.size());
  EXPECT_EQ(buf[0], 42.0f);
}

TEST(GgufRoundTrip, StreamedTensorAndCustomAlignment) {
  std::vector<float> v(10);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  gguf::Writer w;
  w.set("general.alignment", uint32_t{64});
  w.add_tensor("a", GgmlType::F32, {10}, v.data(), 40);
  // Streamed in pieces, as an exporter converting a large tensor chunk by chunk would.
  w.add_tensor("b", GgmlType::F32, {2, 5}, [&](const gguf::Writer::Sink& sink) {
    sink(v.data(), 12);
    sink(v.data() + 3, 28);
  });
  const std::string bytes = w.to_bytes();
  auto f = parse(bytes);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  EXPECT_EQ(f->tensor("b").offset, 64u);
  EXPECT_EQ(f->to_float(f->tensor("b")), v);
  EXPECT_EQ(bytes.size(), f->data_offset() + 128);  // the last tensor is padded too

  gguf::Writer bad;
  EXPECT_TRUE(test::contains(test::user_error_of([&] { bad.set("general.alignment", uint32_t{48}); }),
                             "power of two"));
  EXPECT_TRUE(test::contains(test::user_error_of([&] { bad.set("general.alignment", uint64_t{64}); }),
                             "must be UINT32"));
}

// The exact bytes of a small file: shape (2, 3) is stored as ne = [3, 2].
TEST(GgufLayout, WriterBytesMatchTheSpecByHand) {
  const std::vector<float> data = {1, 2, 3, 4, 5, 6};
  gguf::Writer w;
  w.set("general.architecture", "gpt2");
  w.set("n", std::vector<uint16_t>{9});
  w.add_tensor("w", GgmlType::F32, {2, 3}, data.data(), 24);
  Raw r;
  r.header(1, 2).str("general.architecture").u32(8).str("gpt2");
  r.str("n").u32(9).u32(2).u64(1).num<uint16_t>(9);
  r.tensor("w", {3, 2}, 0, 0).pad();
  r.s.append(reinterpret_cast<const char*>(data.data()), 24);
  r.zeros(8);
  EXPECT_EQ(w.to_bytes(), r.s);
  EXPECT_EQ(parse(r.s)->tensor("w").shape, (std::vector<int64_t>{2, 3}));
}

TEST(GgufLayout, VersionTwoAndNoPaddingAfterLastTensor) {
  Raw r;
  r.header(1, 0, /*version=*/2).tensor("x", {2}, 0, 0).pad();
  r.num(1.0f).num(2.0f);  // no padding at the end of the file
  auto f = parse(r.s);
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->to_float(f->tensor("x")), (std::vector<float>{1.0f, 2.0f}));
  // Without tensors the header needs no padding either (llama.cpp reads such files).
  EXPECT_TRUE(parse(Raw().header(0, 0).s)->tensors().empty());
}

// --- validation -----------------------------------------------------------------------------

TEST(GgufValidation, TruncationAtEveryByteIsAUserError) {
  const std::vector<float> a = {1, 2, 3}, b = {4, 5, 6, 7};
  const std::string full = small_writer(a, b).to_bytes();
  auto f = parse(full);
  const auto& last = f->tensors().back();
  const uint64_t data_end = f->data_offset() + last.offset + last.nbytes;
  for (std::size_t n = 0; n < full.size(); ++n) {
    const std::string cut = full.substr(0, n);
    if (n < data_end) {
      EXPECT_FALSE(parse_error(cut).empty()) << "prefix " << n;
    } else {
      EXPECT_NO_THROW(parse(cut)) << "prefix " << n << " (only the final padding is cut)";
    }
  }
  EXPECT_TRUE(test::contains(parse_error(full.substr(0, 90)), "file ends inside metadata key 1"));
}

TEST(GgufValidation, MagicAndVersion) {
  EXPECT_TRUE(test::contains(parse_error("GGML" + Raw().u32(3).u64(0).u64(0).s), "does not start with \"GGUF\""));
  EXPECT_TRUE(test::contains(parse_error(""), "file ends inside the magic"));
  const std::string v1 = "GGUF" + Raw().u32(1).u32(0).u32(0).s;
  EXPECT_TRUE(test::contains(parse_error(v1), "GGUF version 1"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 0, 4).s), "unsupported GGUF version 4"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 0, 0x03000000).s), "big-endian"));
}

TEST(GgufValidation, HugeCountsAndLengthsAllocateNothing) {
  EXPECT_TRUE(test::contains(parse_error(Raw().header(1ull << 62, 0).s), "tensor count 4611686018427387904"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1ull << 60).s), "metadata count"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1).u64(1ull << 63).zeros(16).s), "limit is 65535"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1).str("k").u32(8).u64(~0ull).s), "limit is 1073741824"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1).str("k").u32(8).u64(100).s), "file ends inside"));
  const std::string arr = Raw().header(0, 1).str("k").u32(9).u32(10).u64(1ull << 61).zeros(64).s;
  EXPECT_TRUE(test::contains(parse_error(arr), "claims 2305843009213693952 elements of type UINT64"));
  const std::string sarr = Raw().header(0, 1).str("k").u32(9).u32(8).u64(9).zeros(64).s;
  EXPECT_TRUE(test::contains(parse_error(sarr), "claims 9 elements of type STRING"));
}

TEST(GgufValidation, UnknownAndNestedTypesNameTheOffset) {
  const std::string bad_type = Raw().header(0, 1).str("key").u32(13).u32(0).s;
  const std::string e = parse_error(bad_type);
  EXPECT_TRUE(test::contains(e, "at offset 35: key 'key' has unknown value type 13")) << e;
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1).str("k").u32(9).u32(77).u64(0).s),
                             "unknown element type 77"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1).str("k").u32(9).u32(9).u64(0).s), "array of arrays"));
  for (uint32_t t : {4u, 99u}) {
    const std::string r = Raw().header(1, 0).tensor("x", {4}, t, 0).pad().zeros(32).s;
    EXPECT_TRUE(test::contains(parse_error(r), "tensor 'x' has unknown ggml type " + std::to_string(t)));
  }
}

TEST(GgufValidation, TensorInfos) {
  auto one = [](std::vector<uint64_t> ne, uint32_t type = 0, const std::string& name = "x") {
    return parse_error(Raw().header(1, 0).tensor(name, ne, type, 0).pad().zeros(64).s);
  };
  EXPECT_TRUE(test::contains(one({}), "n_dims 0"));
  EXPECT_TRUE(test::contains(one({1, 1, 1, 1, 1}), "n_dims 5"));
  EXPECT_TRUE(test::contains(one({2, 0}), "ne[1] = 0"));
  EXPECT_TRUE(test::contains(one({1ull << 40, 1ull << 40}), "exceeds 2^63-1"));
  EXPECT_TRUE(test::contains(one({1ull << 63}), "exceeds 2^63-1"));
  EXPECT_TRUE(test::contains(one({33}, 2), "multiple of 32"));
  EXPECT_TRUE(test::contains(one({1}, 0, std::string(64, 'n')), "the name of tensor 0 is 64 bytes long; the limit is 63"));
  EXPECT_TRUE(test::contains(one({1}, 0, ""), "the name of tensor 0 is empty"));
  const std::string dup = Raw().header(2, 0).tensor("x", {1}, 0, 0).tensor("x", {1}, 0, 32).pad().zeros(64).s;
  EXPECT_TRUE(test::contains(parse_error(dup), "tensor 'x' appears twice"));
  const std::string dup_key = Raw().header(0, 2).str("k").u32(0).s + "\x01" + Raw().str("k").u32(0).s + "\x01";
  EXPECT_TRUE(test::contains(parse_error(dup_key), "metadata key 'k' appears twice"));
  EXPECT_TRUE(test::contains(parse_error(Raw().header(0, 1).str("").u32(0).s + "\x01"), "is empty"));
  const std::string align = Raw().header(0, 1).str("general.alignment").u32(4).u32(24).s;
  EXPECT_TRUE(test::contains(parse_error(align), "power of two"));
  const std::string align_type = Raw().header(0, 1).str("general.alignment").u32(10).u64(32).s;
  EXPECT_TRUE(test::contains(parse_error(align_type), "general.alignment is UINT64"));
}

TEST(GgufValidation, OffsetsMisalignedOverlappingGapOutsideFile) {
  // Two F32 tensors of 4 elements (16 bytes, padded to 32): valid offsets are 0 and 32.
  auto two = [](uint64_t off_a, uint64_t off_b, std::size_t data = 64) {
    return Raw().header(2, 0).tensor("a", {4}, 0, off_a).tensor("b", {4}, 0, off_b).pad().zeros(data).s;
  };
  EXPECT_NO_THROW(parse(two(0, 32)));
  EXPECT_NO_THROW(parse(two(0, 32, 48)));  // the last tensor's padding may be missing
  EXPECT_TRUE(test::contains(parse_error(two(0, 36)), "tensor 'b': data offset 36 is not a multiple of the alignment 32"));
  EXPECT_TRUE(test::contains(parse_error(two(0, 0)), "tensor 'b': data offset 0 overlaps tensor 'a'"));
  EXPECT_TRUE(test::contains(parse_error(two(0, 64, 96)), "data offset 64 leaves a gap after tensor 'a'"));
  EXPECT_TRUE(test::contains(parse_error(two(32, 64, 96)), "tensor 'a': data offset 32 leaves a gap after the start"));
  EXPECT_TRUE(test::contains(parse_error(two(0, 32, 40)), "tensor 'b': its 16 bytes at data offset 32 lie outside the data section"));
  EXPECT_TRUE(test::contains(parse_error(two(0, ~0ull - 31)), "data offset 18446744073709551584 leaves a gap"));
  EXPECT_TRUE(test::contains(parse_error(two(0, 32, 0).substr(0, 90)), "padding before the data section"));
}

TEST(GgufQuantised, ValidatedByBlockSizeAndReportedByName) {
  // Q4_K (256 per block, 144 bytes), shape (2, 512): 4 blocks; Q8_0 (32, 34), shape (3, 64): 6 blocks.
  const std::string q4k(4 * 144, '\x11'), q8(6 * 34, '\x22');
  gguf::Writer w;
  w.add_tensor("blk.0.attn_q.weight", GgmlType::Q4_K, {2, 512}, q4k.data(), q4k.size());
  w.add_tensor("blk.0.ffn_up.weight", GgmlType::Q8_0, {3, 64}, q8.data(), q8.size());
  auto f = parse(w.to_bytes());
  const auto& t = f->tensor("blk.0.attn_q.weight");
  EXPECT_EQ(t.type, GgmlType::Q4_K);
  EXPECT_EQ(t.nbytes, 576u);
  EXPECT_EQ(f->tensor("blk.0.ffn_up.weight").nbytes, 204u);
  EXPECT_EQ(f->tensor("blk.0.ffn_up.weight").offset, 576u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data(t)), 576), q4k);
  const std::string e = test::user_error_of([&] { f->to_float(t); });
  EXPECT_TRUE(test::contains(e, "tensor 'blk.0.attn_q.weight' is Q4_K; ptft reads only F32/F16/BF16 GGUF files")) << e;
  EXPECT_TRUE(test::contains(e, "--outtype f16")) << e;
  EXPECT_TRUE(test::contains(test::user_error_of([&] {
                               gguf::Writer x;
                               x.add_tensor("q", GgmlType::Q4_K, {2, 100}, q4k.data(), 288);
                             }),
                             "multiple of 256"));
}

// --- accessors ------------------------------------------------------------------------------

TEST(GgufAccess, TypedGettersNameFileKeyAndActualType) {
  gguf::Writer w;
  w.set("general.name", "tiny");
  w.set("ctx", uint32_t{128});
  w.set("neg", int32_t{-1});
  w.set("layers", uint64_t{4});
  auto f = parse(w.to_bytes());
  EXPECT_EQ(f->find("nope"), nullptr);
  ASSERT_NE(f->find("ctx"), nullptr);
  std::string e = test::user_error_of([&] { f->get_u32("general.name"); });
  EXPECT_TRUE(test::contains(e, "GGUF file 't.gguf': key 'general.name': value is STRING, expected UINT32")) << e;
  e = test::user_error_of([&] { f->get_string("ctx"); });
  EXPECT_TRUE(test::contains(e, "value is UINT32, expected STRING")) << e;
  e = test::user_error_of([&] { f->get_array_of_strings("ctx"); });
  EXPECT_TRUE(test::contains(e, "expected ARRAY of STRING")) << e;
  e = test::user_error_of([&] { f->get_u64("missing.key"); });
  EXPECT_TRUE(test::contains(e, "GGUF file 't.gguf' has no metadata key 'missing.key'")) << e;
  EXPECT_EQ(f->get_unsigned("ctx"), 128u);
  EXPECT_EQ(f->get_unsigned("layers"), 4u);
  EXPECT_TRUE(test::contains(test::user_error_of([&] { f->get_unsigned("neg"); }), "INT32 -1"));
  EXPECT_TRUE(test::contains(test::user_error_of([&] { f->get_unsigned("general.name"); }), "expected an integer"));
  EXPECT_TRUE(test::contains(test::user_error_of([&] { f->tensor("w"); }), "has no tensor 'w' (it has 0 tensors)"));
  EXPECT_EQ(f->find_tensor("w"), nullptr);
}

// --- writing --------------------------------------------------------------------------------

TEST(GgufWrite, RejectsBadInput) {
  const std::vector<float> v(8, 1.0f);
  gguf::Writer w;
  w.set("k", uint8_t{1});
  w.add_tensor("t", GgmlType::F32, {8}, v.data(), 32);
  auto err = [&](const std::function<void()>& fn) { return test::user_error_of(fn); };
  EXPECT_TRUE(test::contains(err([&] { w.set("k", uint8_t{2}); }), "key 'k' is set twice"));
  EXPECT_TRUE(test::contains(err([&] { w.set("", uint8_t{2}); }), "keys have 1 to 65535"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor("t", GgmlType::F32, {8}, v.data(), 32); }), "added twice"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor("u", GgmlType::F32, {8}, v.data(), 16); }), "needs 32"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor("u", GgmlType::F32, {1, 1, 1, 1, 8}, v.data(), 32); }),
                             "5 dimensions"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor("u", GgmlType::F32, {}, v.data(), 4); }), "0 dimensions"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor("u", GgmlType::F32, {0, 8}, v.data(), 0); }), "at least 1"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor(std::string(64, 'n'), GgmlType::F32, {8}, v.data(), 32); }),
                             "the name has 64 bytes"));
  EXPECT_TRUE(test::contains(err([&] { w.add_tensor("u", static_cast<GgmlType>(4), {8}, v.data(), 32); }),
                             "unknown ggml type 4"));
  EXPECT_TRUE(test::contains(err([] { gguf::Value::empty_array(ValueType::ARRAY); }), "array of arrays"));
  // The failed adds left the writer as it was: one key, one tensor.
  EXPECT_EQ(parse(w.to_bytes())->tensors().size(), 1u);

  gguf::Writer s;
  s.add_tensor("short", GgmlType::F32, {8}, [&](const gguf::Writer::Sink& sink) { sink(v.data(), 16); });
  EXPECT_TRUE(test::contains(err([&] { s.to_bytes(); }), "wrote 16 of 32 bytes"));
  gguf::Writer l;
  l.add_tensor("long", GgmlType::F32, {2}, [&](const gguf::Writer::Sink& sink) { sink(v.data(), 12); });
  EXPECT_TRUE(test::contains(err([&] { l.to_bytes(); }), "wrote more than 8 bytes"));
}

TEST(GgufWrite, AtomicNothingAtThePathOnFailure) {
  test::TempDir tmp("gguf_atomic");
  const std::vector<float> v(4, 2.0f);
  gguf::Writer ok;
  ok.add_tensor("t", GgmlType::F32, {4}, v.data(), 16);

  const std::string missing = tmp.path + "/no/such/dir/m.gguf";
  EXPECT_TRUE(test::contains(test::user_error_of([&] { ok.write(missing); }), "does not exist"));
  EXPECT_FALSE(std::filesystem::exists(tmp.path + "/no"));

  // A data source that fails half-way: the previous file stays, no temporary is left.
  const std::string path = tmp.path + "/m.gguf";
  ok.write(path);
  const std::string before = test::read_text(path);
  gguf::Writer failing;
  failing.add_tensor("t", GgmlType::F32, {4}, [&](const gguf::Writer::Sink& sink) {
    sink(v.data(), 8);
    throw ptft::UserError("source failed", "test");
  });
  EXPECT_TRUE(test::contains(test::user_error_of([&] { failing.write(path); }), "source failed"));
  EXPECT_EQ(test::read_text(path), before);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path), std::filesystem::directory_iterator()), 1);

  // The rename fails when the path is a directory: a UserError naming it, and no temporary left.
  const std::string dir_path = tmp.path + "/d.gguf";
  std::filesystem::create_directories(dir_path + "/x");
  EXPECT_TRUE(test::contains(test::user_error_of([&] { ok.write(dir_path); }), dir_path));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path), std::filesystem::directory_iterator()), 2);

}

TEST(GgufWrite, ReadOnlyDirectoryIsAUserError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  test::TempDir tmp("gguf_ro");
  const std::vector<float> v(4, 2.0f);
  gguf::Writer ok;
  ok.add_tensor("t", GgmlType::F32, {4}, v.data(), 16);
  const std::string ro = tmp.path + "/ro";
  std::filesystem::create_directory(ro);
  ::chmod(ro.c_str(), 0555);
  const std::string e = test::user_error_of([&] { ok.write(ro + "/m.gguf"); });
  EXPECT_TRUE(test::contains(e, "writing GGUF file '" + ro + "/m.gguf'")) << e;
  EXPECT_TRUE(std::filesystem::is_empty(ro));
  ::chmod(ro.c_str(), 0755);
}

// --- the fuzz seed corpus -------------------------------------------------------------------

// tests/io/fuzz_corpus_gguf/: valid_* files parse, invalid_* are UserErrors (never a crash).
TEST(GgufCorpus, SeedsParseOrFailAsNamed) {
  const std::string dir = PTFT_SOURCE_DIR "/tests/io/fuzz_corpus_gguf";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const std::string bytes = test::read_text(e.path().string());
    ++n;
    if (name.rfind("valid_", 0) == 0) {
      EXPECT_NO_THROW(gguf::File::from_bytes(bytes, name)) << name;
    } else {
      EXPECT_FALSE(test::user_error([&] { gguf::File::from_bytes(bytes, name); }).empty()) << name;
    }
  }
  EXPECT_GE(n, 8);
}
