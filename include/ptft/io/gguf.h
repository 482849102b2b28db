// ptft/io/gguf.h — read and write GGUF files (llama.cpp's model container) without torch.
//
// Format (GGUF v3, little endian; v2 reads the same; ggml's docs/gguf.md):
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x   { string key | u32 ValueType | value }          string = u64 length + bytes
//                ARRAY value = u32 element ValueType | u64 count | elements
//   tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 GgmlType | u64 offset }
//   zero padding to general.alignment (u32 key, default 32) | data section
// ne[0] is the fastest-varying dimension: ggml's order is the REVERSE of a row-major (torch)
// shape. This API speaks row-major shapes only; the reversal happens in the reader and writer.
// Tensors lie in the data section in the order of their infos, each starting at a multiple of
// the alignment (padding after each one), as llama.cpp requires.
//
// Reading maps the file read-only and validates everything (bounds, counts, types, sizes,
// offsets); any malformed input is a UserError naming the file, the byte offset and the problem.
//
//   auto f = ptft::gguf::File::open("model.gguf");
//   std::string arch = f->get_string("general.architecture");   // UserError: missing/wrong type
//   const auto& t = f->tensor("token_embd.weight");               // t.shape = (V, C), row-major
//   std::vector<float> w = f->to_float(t);                        // F32/F16/BF16 only
//
//   ptft::gguf::Writer w;
//   w.set("general.architecture", "llama");
//   w.set("tokenizer.ggml.tokens", std::vector<std::string>{"<s>", "a"});
//   w.add_tensor("output.weight", GgmlType::F32, {V, C}, data, V * C * sizeof(float));
//   w.write("model.gguf");                                        // atomic
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptft::fs {
class MappedFile;
}

namespace ptft::gguf {

namespace detail {
class Cursor;
}

// --- metadata value types -------------------------------------------------------------------

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType);  // "UINT32", ...
bool is_value_type(uint32_t id);         // 0..12
// Bytes of one element of a fixed-size type (0 for STRING and ARRAY).
std::size_t value_type_size(ValueType);

// The C++ type of each fixed-size GGUF type (bool is stored as one byte, 0 or 1).
template <class T> struct ValueTypeOf;
template <> struct ValueTypeOf<uint8_t> { static constexpr ValueType value = ValueType::UINT8; };
template <> struct ValueTypeOf<int8_t> { static constexpr ValueType value = ValueType::INT8; };
template <> struct ValueTypeOf<uint16_t> { static constexpr ValueType value = ValueType::UINT16; };
template <> struct ValueTypeOf<int16_t> { static constexpr ValueType value = ValueType::INT16; };
template <> struct ValueTypeOf<uint32_t> { static constexpr ValueType value = ValueType::UINT32; };
template <> struct ValueTypeOf<int32_t> { static constexpr ValueType value = ValueType::INT32; };
template <> struct ValueTypeOf<float> { static constexpr ValueType value = ValueType::FLOAT32; };
template <> struct ValueTypeOf<bool> { static constexpr ValueType value = ValueType::BOOL; };
template <> struct ValueTypeOf<uint64_t> { static constexpr ValueType value = ValueType::UINT64; };
template <> struct ValueTypeOf<int64_t> { static constexpr ValueType value = ValueType::INT64; };
template <> struct ValueTypeOf<double> { static constexpr ValueType value = ValueType::FLOAT64; };

// One metadata value: a scalar of any of the 12 non-array types, or an array of one of them
// (arrays of arrays are refused, as llama.cpp does). The C++ type picks the GGUF type:
//   Value(uint32_t{32}) UINT32, Value(1.5f) FLOAT32, Value("x") STRING,
//   Value(std::vector<int32_t>{...}) ARRAY of INT32, Value::empty_array(ValueType::STRING).
class Value {
 public:
  template <class T, class = decltype(ValueTypeOf<T>::value)>
  Value(T v) : type_(ValueTypeOf<T>::value) { raw_ = encode(&v, 1); }
  Value(std::string s) : type_(ValueType::STRING), strings_{std::move(s)} {}
  Value(const char* s) : Value(std::string(s)) {}
  template <class T, class = decltype(ValueTypeOf<T>::value)>
  Value(const std::vector<T>& v) : type_(ValueType::ARRAY), elem_(ValueTypeOf<T>::value), count_(v.size()) {
    raw_ = encode(v.data(), v.size());
  }
  Value(const std::vector<bool>& v);
  Value(std::vector<std::string> v);
  static Value empty_array(ValueType element);  // UserError for ARRAY

  ValueType type() const { return type_; }
  // For arrays: the element type and the number of elements.
  ValueType array_type() const;
  uint64_t array_size() const;
  // "UINT32", "ARRAY of STRING": what messages call the type.
  std::string type_name() const;

  // Typed access; a UserError saying the actual type when it is another one.
  template <class T> T get() const;
  const std::string& get_string() const;
  template <class T> std::vector<T> get_array() const;
  const std::vector<std::string>& get_strings() const;  // ARRAY of STRING
  // Any integer type (UINT8..INT64) whose value is >= 0, as u64: for counts that writers store
  // as UINT32 or UINT64. UserError for other types or a negative value.
  uint64_t get_unsigned() const;

  // Raw little-endian bytes of a fixed-size scalar or of a numeric array's elements.
  const std::string& raw() const { return raw_; }
  const std::vector<std::string>& strings() const { return strings_; }
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

  // Used by the reader: a fixed-size scalar/array from its raw bytes.
  static Value from_raw(ValueType type, ValueType elem, uint64_t count, std::string raw);
  static Value from_strings(ValueType type, std::vector<std::string> strings);

 private:
  Value() = default;
  template <class T>
  static std::string encode(const T* p, std::size_t n);  // little endian
  void expect(ValueType t, ValueType elem = ValueType::UINT8) const;

  ValueType type_ = ValueType::UINT8;
  ValueType elem_ = ValueType::UINT8;  // arrays only
  uint64_t count_ = 0;                 // arrays only
  std::string raw_;                    // fixed-size scalar or array elements, little endian
  std::vector<std::string> strings_;   // STRING: one; ARRAY of STRING: all
};

// --- ggml tensor types ----------------------------------------------------------------------

// ggml's type ids (ggml.h). Ids 4, 5, 31-33, 36-38 were removed from ggml and are refused.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41, Q2_0 = 42,
};

struct GgmlTypeInfo {
  GgmlType type;
  const char* name;       // "Q4_K"
  uint32_t block_size;    // elements per block (1 for F32/F16/BF16/I*)
  uint32_t block_bytes;   // bytes per block
};
// nullptr for an id ggml does not define (or has removed).
const GgmlTypeInfo* find_ggml_type(uint32_t id);
const GgmlTypeInfo& ggml_type_info(GgmlType);
const char* ggml_type_name(GgmlType);
// Bytes of a tensor of `numel` elements whose innermost dimension is `row` elements: UserError
// when `row` is not a multiple of the block size (the format cannot store such a tensor).
uint64_t ggml_nbytes(GgmlType, int64_t numel, int64_t row);

// --- reading --------------------------------------------------------------------------------

constexpr uint32_t kDefaultAlignment = 32;
// Limits the reader enforces (beyond "it must fit in the file").
constexpr uint64_t kMaxKeyBytes = 65535;         // the spec's limit on key length
constexpr uint64_t kMaxStringBytes = 1ull << 30; // any string value
constexpr uint64_t kMaxArrayCount = 1ull << 30;  // elements of one array
constexpr uint64_t kMaxTensors = 1ull << 20;
constexpr uint64_t kMaxTensorNameBytes = 63;     // GGML_MAX_NAME (64) with its NUL
constexpr uint32_t kMaxDims = 4;                 // GGML_MAX_DIMS

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> shape;  // row-major (torch order): the reverse of the file's ne[]
  uint64_t offset = 0;         // relative to the data section; a multiple of the alignment
  uint64_t nbytes = 0;         // exact bytes (without the padding after it)
  int64_t numel() const;
};

class File {
 public:
  // Maps `path` read-only; UserError if it cannot be opened or is not a valid GGUF file.
  static std::shared_ptr<File> open(const std::string& path);
  // Same validation on bytes in memory; `name` stands for the path in messages.
  static std::shared_ptr<File> from_bytes(std::string bytes, std::string name = "<memory>");

  uint32_t version() const { return version_; }      // 2 or 3
  uint32_t alignment() const { return alignment_; }  // general.alignment or 32
  uint64_t data_offset() const { return data_offset_; }  // absolute offset of the data section
  const std::string& path() const { return path_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(const std::string& key) const;  // nullptr if absent
  // UserError naming the file and key when absent, and the actual type when it is another.
  const Value& at(const std::string& key) const;
  template <class T> T get(const std::string& key) const;
  template <class T> std::vector<T> get_array(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  const std::vector<std::string>& get_array_of_strings(const std::string& key) const;
  uint64_t get_unsigned(const std::string& key) const;  // any non-negative integer type
  uint8_t get_u8(const std::string& k) const { return get<uint8_t>(k); }
  int8_t get_i8(const std::string& k) const { return get<int8_t>(k); }
  uint16_t get_u16(const std::string& k) const { return get<uint16_t>(k); }
  int16_t get_i16(const std::string& k) const { return get<int16_t>(k); }
  uint32_t get_u32(const std::string& k) const { return get<uint32_t>(k); }
  int32_t get_i32(const std::string& k) const { return get<int32_t>(k); }
  uint64_t get_u64(const std::string& k) const { return get<uint64_t>(k); }
  int64_t get_i64(const std::string& k) const { return get<int64_t>(k); }
  float get_f32(const std::string& k) const { return get<float>(k); }
  double get_f64(const std::string& k) const { return get<double>(k); }
  bool get_bool(const std::string& k) const { return get<bool>(k); }

  // Tensors in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;  // nullptr if absent
  const TensorInfo& tensor(const std::string& name) const;      // UserError if absent
  // The tensor's first byte inside the mapping (aligned to alignment() within the file).
  const uint8_t* data(const TensorInfo&) const;
  // F32/F16/BF16 data as floats; UserError naming the type for any other (quantised) type.
  std::vector<float> to_float(const TensorInfo&) const;
  void to_float(const TensorInfo&, float* out, std::size_t n) const;  // n must be numel()

  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

 private:
  File() = default;
  void parse();  // fills everything from base_/size_; throws UserError
  void read_metadata(detail::Cursor& c, uint64_t n_kv);
  void read_tensor_infos(detail::Cursor& c, uint64_t n_tensors);
  void check_layout(const detail::Cursor& c);
  std::string where() const { return "GGUF file '" + path_ + "'"; }

  std::string path_;
  std::string bytes_;                    // owns the bytes for from_bytes()
  std::unique_ptr<fs::MappedFile> map_;  // the mapping for open()
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, std::size_t> key_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> tensor_index_;
};

// --- writing --------------------------------------------------------------------------------

// Collects metadata (in the order set) and tensors (in the order added), then writes a v3
// file. The alignment is general.alignment when set (a UINT32 power of two), else 32.
// Tensor bytes are not copied: add_tensor keeps the pointer (valid until write) or a callback
// that streams them at write time, so a model of any size is written without holding a copy.
class Writer {
 public:
  // Streams one tensor's bytes into `sink` (any number of calls, exactly nbytes in total).
  using Sink = std::function<void(const void* data, std::size_t size)>;
  using Fill = std::function<void(const Sink& sink)>;

  // UserError on a duplicate key, an empty key or one over kMaxKeyBytes, or a general.alignment
  // that is not a UINT32 power of two.
  void set(const std::string& key, Value value);
  // shape is row-major (torch order); nbytes must be what `type` needs for it. UserError on a
  // duplicate/empty/over-long name, 0 or > 4 dims, a dimension < 1, an innermost dimension that
  // is not a multiple of the type's block size, or a wrong nbytes.
  void add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& shape,
                  const void* data, uint64_t nbytes);
  void add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& shape,
                  Fill fill);

  // Writes atomically (temporary sibling + fsync + rename): on any failure (missing directory,
  // no permission, disk full, a Fill that throws or writes the wrong size) `path` is untouched.
  void write(const std::string& path) const;
  // The whole file in memory: for tests and small files.
  std::string to_bytes() const;

 private:
  struct Entry {
    std::string name;
    GgmlType type;
    std::vector<int64_t> shape;
    uint64_t nbytes;
    Fill fill;
  };
  uint64_t checked_nbytes(const std::string& name, GgmlType type, const std::vector<int64_t>& shape) const;
  std::string header() const;  // everything before the data section, padded
  void stream(const Sink& out) const;
  uint32_t alignment() const;

  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, std::size_t> key_index_;
  std::vector<Entry> tensors_;
  std::map<std::string, std::size_t> tensor_index_;
};

template <class T>
std::string Value::encode(const T* p, std::size_t n) {
  // ptft runs on little-endian hosts only (gguf_value.cpp asserts it): bytes are the encoding.
  static_assert(sizeof(bool) == 1, "GGUF stores BOOL as one byte");
  return std::string(reinterpret_cast<const char*>(p), n * sizeof(T));
}

}  // namespace ptft::gguf
