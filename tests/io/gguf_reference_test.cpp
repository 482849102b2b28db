// ptft's GGUF reader and writer against an independent implementation: @huggingface/gguf, the
// Hugging Face Hub's JavaScript parser (fetched from npm by scripts/fetch-gguf-reference.sh,
// run through tests/io/gguf_check.js).
//   1. ptft writes every value type and every ggml tensor type; the reference must read every
//      key, type, value, tensor name, dims, dtype and offset as ptft wrote them.
//   2. the reference writes a header (its buildGgufHeader) with keys of its own in front of
//      ptft's tensor data; ptft must read every value and byte.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/files.h"
#include "../common/gguf_reference.h"
#include "../common/temp_dir.h"
#include "ptft/io/gguf.h"

namespace gguf = ptft::gguf;
namespace test = ptft::test;
using gguf::GgmlType;
using gguf::ValueType;
using nlohmann::json;

namespace {

// Metadata of every type; arrays of every element type except UINT8 in `rewritable` files
// (the reference's writer cannot write UINT8 arrays: it tests `if (!subType)`, and UINT8 is 0).
void set_all_types(gguf::Writer& w, bool rewritable) {
  w.set("general.architecture", "llama");
  w.set("t.u8", uint8_t{200});
  w.set("t.i8", int8_t{-100});
  w.set("t.u16", uint16_t{60000});
  w.set("t.i16", int16_t{-30000});
  w.set("t.u32", uint32_t{4000000000u});
  w.set("t.i32", int32_t{-2000000000});
  w.set("t.f32", 0.1f);
  w.set("t.f32.nan", std::numeric_limits<float>::quiet_NaN());
  w.set("t.f32.negzero", -0.0f);
  w.set("t.bool", true);
  w.set("t.str", "h\xc3\xa9llo \xe2\x96\x81w\xc3\xb6rld");
  w.set("t.u64", uint64_t{18446744073709551615ull});
  w.set("t.i64", std::numeric_limits<int64_t>::min());
  w.set("t.f64", 1.0 / 3.0);
  if (!rewritable) w.set("a.u8", std::vector<uint8_t>{0, 255});
  w.set("a.i8", std::vector<int8_t>{-128, 127});
  w.set("a.u16", std::vector<uint16_t>{1, 65535});
  w.set("a.i16", std::vector<int16_t>{-32768});
  w.set("a.u32", std::vector<uint32_t>{7, 8, 9});
  w.set("a.i32", std::vector<int32_t>{-1, 1});
  w.set("a.f32", std::vector<float>{1.5f, -2.25f, 1e-30f});
  w.set("a.bool", std::vector<bool>{false, true});
  w.set("tokenizer.ggml.tokens", std::vector<std::string>{"<s>", "</s>", "\xe2\x96\x81the", ""});
  w.set("a.u64", std::vector<uint64_t>{0, 1ull << 63});
  w.set("a.i64", std::vector<int64_t>{-1, std::numeric_limits<int64_t>::max()});
  w.set("a.f64", std::vector<double>{-1e300, 5e-324});
  w.set("a.empty.str", std::vector<std::string>{});
  w.set("a.empty.f32", std::vector<float>{});
}

// One tensor of every ggml type ptft knows, shape (2, 2 blocks) row-major, bytes a pattern.
std::vector<std::string> add_all_tensor_types(gguf::Writer& w) {
  std::vector<std::string> data;
  data.reserve(64);  // the writer keeps pointers into these strings
  for (uint32_t id = 0; id < 64; ++id) {
    const gguf::GgmlTypeInfo* t = gguf::find_ggml_type(id);
    if (t == nullptr) continue;
    const int64_t row = 2 * t->block_size;
    std::string bytes(gguf::ggml_nbytes(t->type, 2 * row, row), '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7 + id) & 0xff);
    data.push_back(std::move(bytes));
    w.add_tensor(std::string("t.") + t->name, t->type, {2, row}, data.back().data(), data.back().size());
  }
  return data;
}

// A number as the reference printed it (JS String(): shortest round-trip, "NaN", "-0").
double js_number(const json& j) { return std::strtod(j.get<std::string>().c_str(), nullptr); }

// Compares one value as ptft reads it with the reference's JSON of it.
template <class T>
void expect_scalar(const std::string& key, T ours, const json& js) {
  if constexpr (std::is_same_v<T, bool>) {
    EXPECT_EQ(js.get<bool>(), ours) << key;
  } else if constexpr (std::is_floating_point_v<T>) {
    const double theirs = js_number(js);
    if (std::isnan(ours)) {
      EXPECT_TRUE(std::isnan(theirs)) << key << ": " << js;
    } else {
      EXPECT_EQ(theirs, static_cast<double>(ours)) << key << ": " << js;
      EXPECT_EQ(std::signbit(theirs), std::signbit(ours)) << key << ": " << js;
    }
  } else {
    EXPECT_EQ(js.get<std::string>(), std::to_string(ours)) << key;
  }
}

template <class T>
void expect_value_as(const std::string& key, const gguf::Value& v, const json& js) {
  if (v.type() != ValueType::ARRAY) return expect_scalar(key, v.get<T>(), js);
  const std::vector<T> ours = v.get_array<T>();
  ASSERT_TRUE(js.is_array()) << key;
  ASSERT_EQ(js.size(), ours.size()) << key;
  for (std::size_t i = 0; i < ours.size(); ++i) expect_scalar(key + "[" + std::to_string(i) + "]", T(ours[i]), js[i]);
}

void expect_value(const std::string& key, const gguf::Value& v, const json& js) {
  const ValueType t = v.type() == ValueType::ARRAY ? v.array_type() : v.type();
  switch (t) {
    case ValueType::UINT8: return expect_value_as<uint8_t>(key, v, js);
    case ValueType::INT8: return expect_value_as<int8_t>(key, v, js);
    case ValueType::UINT16: return expect_value_as<uint16_t>(key, v, js);
    case ValueType::INT16: return expect_value_as<int16_t>(key, v, js);
    case ValueType::UINT32: return expect_value_as<uint32_t>(key, v, js);
    case ValueType::INT32: return expect_value_as<int32_t>(key, v, js);
    case ValueType::FLOAT32: return expect_value_as<float>(key, v, js);
    case ValueType::BOOL: return expect_value_as<bool>(key, v, js);
    case ValueType::UINT64: return expect_value_as<uint64_t>(key, v, js);
    case ValueType::INT64: return expect_value_as<int64_t>(key, v, js);
    case ValueType::FLOAT64: return expect_value_as<double>(key, v, js);
    case ValueType::STRING:
      if (v.type() == ValueType::STRING) {
        EXPECT_EQ(js.get<std::string>(), v.get_string()) << key;
      } else {
        EXPECT_EQ(js.get<std::vector<std::string>>(), v.get_strings()) << key;
      }
      return;
    case ValueType::ARRAY: FAIL() << key << ": nested array";
  }
}

// Every key, type, value and tensor of `f` as the reference read them into `js`.
void expect_same_header(const gguf::File& f, const json& js) {
  ASSERT_TRUE(js.is_object());
  EXPECT_EQ(js["version"].get<int>(), static_cast<int>(f.version()));
  EXPECT_EQ(js["tensor_count"], std::to_string(f.tensors().size()));
  EXPECT_EQ(js["kv_count"], std::to_string(f.metadata().size()));
  EXPECT_EQ(js["tensor_data_offset"], std::to_string(f.data_offset()));
  const json& md = js["metadata"];
  ASSERT_EQ(md.size(), f.metadata().size());
  for (std::size_t i = 0; i < md.size(); ++i) {
    const auto& [key, v] = f.metadata()[i];
    SCOPED_TRACE(key);
    EXPECT_EQ(md[i]["key"], key);
    EXPECT_EQ(md[i]["type"].get<uint32_t>(), static_cast<uint32_t>(v.type()));
    if (v.type() == ValueType::ARRAY) {
      EXPECT_EQ(md[i]["sub_type"].get<uint32_t>(), static_cast<uint32_t>(v.array_type()));
    }
    expect_value(key, v, md[i]["value"]);
  }
  const json& ts = js["tensors"];
  ASSERT_EQ(ts.size(), f.tensors().size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const gguf::TensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(ts[i]["name"], t.name);
    EXPECT_EQ(ts[i]["n_dims"].get<std::size_t>(), t.shape.size());
    std::vector<std::string> ne;  // ggml order: innermost first
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) ne.push_back(std::to_string(*d));
    EXPECT_EQ(ts[i]["shape"].get<std::vector<std::string>>(), ne);
    EXPECT_EQ(ts[i]["dtype"].get<uint32_t>(), static_cast<uint32_t>(t.type));
    EXPECT_EQ(ts[i]["offset"], std::to_string(t.offset));
  }
}

}  // namespace

TEST(GgufReference, ReadsEveryValueAndTensorTypeAsPtftWroteThem) {
  PTFT_REQUIRE_GGUF_REFERENCE();
  test::TempDir tmp("gguf_ref");
  for (uint32_t alignment : {32u, 64u}) {
    SCOPED_TRACE("alignment " + std::to_string(alignment));
    gguf::Writer w;
    if (alignment != 32) w.set("general.alignment", uint32_t{alignment});
    set_all_types(w, /*rewritable=*/false);
    const auto data = add_all_tensor_types(w);
    const std::string path = tmp.path + "/all-" + std::to_string(alignment) + ".gguf";
    w.write(path);
    auto f = gguf::File::open(path);
    ASSERT_EQ(f->tensors().size(), data.size());
    EXPECT_GE(f->tensors().size(), 35u);  // every ggml type ptft knows
    expect_same_header(*f, test::gguf_reference_read(path));
  }
}

TEST(GgufReference, PtftReadsWhatTheReferenceWrites) {
  PTFT_REQUIRE_GGUF_REFERENCE();
  test::TempDir tmp("gguf_ref_rw");
  gguf::Writer w;
  set_all_types(w, /*rewritable=*/true);
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<uint16_t> h = {0x3c00, 0xbc00, 0x4000};
  w.add_tensor("a", GgmlType::F32, {2, 3}, a.data(), 24);
  w.add_tensor("h", GgmlType::F16, {3}, h.data(), 6);
  const std::string in = tmp.path + "/in.gguf", out = tmp.path + "/out.gguf";
  w.write(in);
  test::gguf_reference_rewrite(in, out);
  auto f = gguf::File::open(in);
  auto g = gguf::File::open(out);

  // The reference kept ptft's keys (same types and bytes, same order) and appended its own.
  ASSERT_EQ(g->metadata().size(), f->metadata().size() + 11);
  for (std::size_t i = 0; i < f->metadata().size(); ++i) {
    EXPECT_EQ(g->metadata()[i].first, f->metadata()[i].first);
    EXPECT_TRUE(g->metadata()[i].second == f->metadata()[i].second) << f->metadata()[i].first;
  }
  EXPECT_EQ(g->get_u16("js.u16"), 65535);
  EXPECT_EQ(g->get_i32("js.i32"), -123456);
  EXPECT_EQ(g->get_f32("js.f32"), 0.1f);
  EXPECT_FALSE(g->get_bool("js.bool"));
  EXPECT_EQ(g->get_string("js.str"), "h\xc3\xa9llo \xe2\x96\x81");
  EXPECT_EQ(g->get_u64("js.u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(g->get_i64("js.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(g->get_f64("js.f64"), -2.5e-300);
  EXPECT_EQ(g->get_array_of_strings("js.strs"), (std::vector<std::string>{"a", "", "\xc3\xbc"}));
  EXPECT_EQ(g->get_array<int16_t>("js.i16s"), (std::vector<int16_t>{-1, 2}));
  EXPECT_EQ(g->at("js.empty").array_type(), ValueType::UINT32);
  EXPECT_EQ(g->at("js.empty").array_size(), 0u);

  // Same tensors, same bytes, at a data section the reference's longer header moved.
  ASSERT_EQ(g->tensors().size(), 2u);
  EXPECT_NE(g->data_offset(), f->data_offset());
  EXPECT_EQ(g->to_float(g->tensor("a")), a);
  EXPECT_EQ(g->to_float(g->tensor("h")), (std::vector<float>{1.0f, -1.0f, 2.0f}));
  EXPECT_EQ(g->tensor("a").shape, (std::vector<int64_t>{2, 3}));
  // And the reference reads its own file as ptft does.
  expect_same_header(*g, test::gguf_reference_read(out));
}
