// gguf::Value: one metadata value, kept as its little-endian bytes (or strings) so that
// reading, comparing and writing it back never changes a bit.
#include <cstring>
#include <string>

#include "gguf_cursor.h"
#include "ptft/core/error.h"
#include "ptft/io/gguf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ptft's GGUF code assumes a little-endian host (GGUF is little endian)"
#endif

namespace ptft::gguf {

Value::Value(const std::vector<bool>& v)
    : type_(ValueType::ARRAY), elem_(ValueType::BOOL), count_(v.size()) {
  raw_.reserve(v.size());
  for (bool b : v) raw_.push_back(b ? 1 : 0);
}

Value::Value(std::vector<std::string> v)
    : type_(ValueType::ARRAY), elem_(ValueType::STRING), count_(v.size()), strings_(std::move(v)) {}

Value Value::empty_array(ValueType element) {
  if (element == ValueType::ARRAY)
    throw UserError("a GGUF array of arrays is not supported", "llama.cpp reads no nested arrays; flatten it");
  return from_raw(ValueType::ARRAY, element, 0, {});
}

Value Value::from_raw(ValueType type, ValueType elem, uint64_t count, std::string raw) {
  Value v;
  v.type_ = type;
  v.elem_ = elem;
  v.count_ = count;
  v.raw_ = std::move(raw);
  return v;
}

Value Value::from_strings(ValueType type, std::vector<std::string> strings) {
  Value v;
  v.type_ = type;
  v.elem_ = ValueType::STRING;
  v.count_ = type == ValueType::ARRAY ? strings.size() : 0;
  v.strings_ = std::move(strings);
  return v;
}

ValueType Value::array_type() const {
  expect(ValueType::ARRAY, elem_);
  return elem_;
}

uint64_t Value::array_size() const {
  expect(ValueType::ARRAY, elem_);
  return count_;
}

std::string Value::type_name() const {
  if (type_ != ValueType::ARRAY) return value_type_name(type_);
  return std::string("ARRAY of ") + value_type_name(elem_);
}

// Throws unless this value is of type `t` (and, for arrays, of element type `elem`).
void Value::expect(ValueType t, ValueType elem) const {
  if (type_ == t && (t != ValueType::ARRAY || elem_ == elem)) return;
  const std::string want =
      t == ValueType::ARRAY ? std::string("ARRAY of ") + value_type_name(elem) : value_type_name(t);
  throw UserError("value is " + type_name() + ", expected " + want,
                  "the file was written with another type for this key; check the writer");
}

template <class T>
T Value::get() const {
  expect(ValueTypeOf<T>::value);
  T v;
  if constexpr (std::is_same_v<T, bool>) {
    v = raw_[0] != 0;  // GGUF readers treat any non-zero byte as true
  } else {
    std::memcpy(&v, raw_.data(), sizeof v);
  }
  return v;
}

const std::string& Value::get_string() const {
  expect(ValueType::STRING);
  return strings_[0];
}

template <class T>
std::vector<T> Value::get_array() const {
  expect(ValueType::ARRAY, ValueTypeOf<T>::value);
  std::vector<T> out(count_);
  if constexpr (std::is_same_v<T, bool>) {
    for (uint64_t i = 0; i < count_; ++i) out[i] = raw_[i] != 0;
  } else if (count_ > 0) {
    std::memcpy(out.data(), raw_.data(), count_ * sizeof(T));
  }
  return out;
}

const std::vector<std::string>& Value::get_strings() const {
  expect(ValueType::ARRAY, ValueType::STRING);
  return strings_;
}

uint64_t Value::get_unsigned() const {
  auto negative = [&](int64_t v) -> uint64_t {
    if (v < 0)
      throw UserError("value is " + type_name() + " " + std::to_string(v) + ", expected a count >= 0",
                      "the file holds a negative number where a size or count belongs");
    return static_cast<uint64_t>(v);
  };
  switch (type_) {
    case ValueType::UINT8: return get<uint8_t>();
    case ValueType::UINT16: return get<uint16_t>();
    case ValueType::UINT32: return get<uint32_t>();
    case ValueType::UINT64: return get<uint64_t>();
    case ValueType::INT8: return negative(get<int8_t>());
    case ValueType::INT16: return negative(get<int16_t>());
    case ValueType::INT32: return negative(get<int32_t>());
    case ValueType::INT64: return negative(get<int64_t>());
    default:
      throw UserError("value is " + type_name() + ", expected an integer",
                      "the file was written with another type for this key; check the writer");
  }
}

bool Value::operator==(const Value& o) const {
  return type_ == o.type_ && (type_ != ValueType::ARRAY || (elem_ == o.elem_ && count_ == o.count_)) &&
         raw_ == o.raw_ && strings_ == o.strings_;
}

#define PTFT_GGUF_INSTANTIATE(T)                    \
  template T Value::get<T>() const;                 \
  template std::vector<T> Value::get_array<T>() const;
PTFT_GGUF_FOR_EACH_FIXED_TYPE(PTFT_GGUF_INSTANTIATE)
#undef PTFT_GGUF_INSTANTIATE

}  // namespace ptft::gguf
