// gguf::File: maps a GGUF file and validates all of it before anything is handed out.
#include <limits>

#include "gguf_cursor.h"
#include "ptft/core/error.h"
#include "ptft/core/mapped_file.h"
#include "ptft/io/gguf.h"

namespace ptft::gguf {
namespace {

using detail::Cursor;
using detail::kHintCorrupt;
using detail::printable;

// Smallest encodings, to bound counts by the bytes left before allocating for them:
// a KV is key length (8) + type (4) + a 1-byte value; a tensor info is name length (8) +
// n_dims (4) + one ne (8) + type (4) + offset (8).
constexpr uint64_t kMinKvBytes = 13;
constexpr uint64_t kMinTensorInfoBytes = 32;

uint32_t byteswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

// ARRAY: u32 element type, u64 count, elements. Arrays of arrays are refused (llama.cpp reads
// none) so that nesting, and the memory a hostile file can ask for, stays bounded.
Value read_array(Cursor& c, const std::string& what) {
  const uint64_t at = c.pos();
  const auto elem_id = c.read<uint32_t>("the element type of " + what);
  if (!is_value_type(elem_id))
    throw c.error(at, what + " has unknown element type " + std::to_string(elem_id) +
                          " (GGUF value types are 0..12)");
  const auto elem = static_cast<ValueType>(elem_id);
  if (elem == ValueType::ARRAY)
    throw c.error(at, what + " is an array of arrays, which GGUF readers (llama.cpp) do not support");
  const uint64_t count_at = c.pos();
  const auto count = c.read<uint64_t>("the element count of " + what);
  const uint64_t min_size = elem == ValueType::STRING ? 8 : value_type_size(elem);
  if (count > kMaxArrayCount || count > c.remaining() / min_size)
    throw c.error(count_at, what + " claims " + std::to_string(count) + " elements of type " +
                                value_type_name(elem) + ", more than the " +
                                std::to_string(c.remaining()) + " bytes left can hold (limit " +
                                std::to_string(kMaxArrayCount) + ")",
                  detail::kHintTruncated);
  if (elem != ValueType::STRING)
    return Value::from_raw(ValueType::ARRAY, elem, count, c.bytes(count * min_size, what));
  std::vector<std::string> items;
  items.reserve(count);  // bounded above: count <= bytes left / 8
  for (uint64_t i = 0; i < count; ++i)
    items.push_back(c.string(kMaxStringBytes, "element " + std::to_string(i) + " of " + what));
  return Value::from_strings(ValueType::ARRAY, std::move(items));
}

Value read_value(Cursor& c, ValueType type, const std::string& what) {
  if (type == ValueType::STRING)
    return Value::from_strings(ValueType::STRING, {c.string(kMaxStringBytes, what)});
  if (type == ValueType::ARRAY) return read_array(c, what);
  return Value::from_raw(type, ValueType::UINT8, 0, c.bytes(value_type_size(type), what));
}

// Row-major shape from ggml's ne[] (innermost first), each 1 <= ne and the product < 2^63.
std::vector<int64_t> read_shape(Cursor& c, const std::string& what) {
  const uint64_t at = c.pos();
  const auto n_dims = c.read<uint32_t>("the n_dims of " + what);
  if (n_dims < 1 || n_dims > kMaxDims)
    throw c.error(at, what + " has n_dims " + std::to_string(n_dims) + "; ggml tensors have 1 to " +
                          std::to_string(kMaxDims));
  std::vector<int64_t> shape(n_dims);
  uint64_t numel = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    const uint64_t dim_at = c.pos();
    const auto ne = c.read<uint64_t>("ne[" + std::to_string(i) + "] of " + what);
    const auto max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (ne == 0 || ne > max || numel > max / ne)
      throw c.error(dim_at, what + " has ne[" + std::to_string(i) + "] = " + std::to_string(ne) +
                                (ne == 0 ? "; every dimension must be at least 1"
                                         : "; the element count exceeds 2^63-1"));
    numel *= ne;
    shape[n_dims - 1 - i] = static_cast<int64_t>(ne);  // ggml's ne[0] is the last row-major dim
  }
  return shape;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated when read/added: no overflow
  return n;
}

// --- opening --------------------------------------------------------------------------------

std::shared_ptr<File> File::open(const std::string& path) {
  std::shared_ptr<File> f(new File());
  f->path_ = path;
  f->map_ = std::make_unique<fs::MappedFile>(path, "GGUF file");
  f->base_ = f->map_->data();
  f->size_ = f->map_->size();
  f->parse();
  return f;
}

std::shared_ptr<File> File::from_bytes(std::string bytes, std::string name) {
  std::shared_ptr<File> f(new File());
  f->path_ = std::move(name);
  f->bytes_ = std::move(bytes);
  f->base_ = reinterpret_cast<const uint8_t*>(f->bytes_.data());
  f->size_ = f->bytes_.size();
  f->parse();
  return f;
}

File::~File() = default;

// --- parsing --------------------------------------------------------------------------------

void File::parse() {
  Cursor c(base_, size_, where());
  try {
    // Header: magic, version, counts.
    const std::string magic = c.bytes(4, "the magic \"GGUF\"");
    if (magic != "GGUF")
      throw c.error(0, "does not start with \"GGUF\" (first bytes " + printable(magic) + ")",
                    "this is not a GGUF file");
    version_ = c.read<uint32_t>("the version");
    if (version_ == 1)
      throw c.error(4, "GGUF version 1 (32-bit counts, 2023) is not supported; ptft reads versions 2 and 3",
                    "convert the model again with a current llama.cpp (convert_hf_to_gguf.py)");
    if (version_ != 2 && version_ != 3) {
      const uint32_t swapped = byteswap32(version_);
      throw c.error(4, swapped >= 1 && swapped <= 3
                           ? "a big-endian GGUF file (version " + std::to_string(swapped) +
                                 "); ptft reads little-endian files only"
                           : "unsupported GGUF version " + std::to_string(version_) +
                                 "; ptft reads versions 2 and 3",
                    "convert the model again with llama.cpp's convert_hf_to_gguf.py (little endian)");
    }
    const auto n_tensors = c.read<uint64_t>("the tensor count");
    const auto n_kv = c.read<uint64_t>("the metadata count");
    if (n_tensors > kMaxTensors || n_tensors > c.remaining() / kMinTensorInfoBytes)
      throw c.error(8, "tensor count " + std::to_string(n_tensors) + " is more than the file can hold (limit " +
                           std::to_string(kMaxTensors) + ")",
                    detail::kHintTruncated);
    if (n_kv > c.remaining() / kMinKvBytes)
      throw c.error(16, "metadata count " + std::to_string(n_kv) + " is more than the " +
                            std::to_string(c.remaining()) + " bytes left can hold",
                    detail::kHintTruncated);
    read_metadata(c, n_kv);
    read_tensor_infos(c, n_tensors);
    check_layout(c);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // bad_alloc and the like: the contract is that only ptft errors escape.
    throw UserError(where() + ": cannot read it: " + e.what(), kHintCorrupt);
  }
}

void File::read_metadata(Cursor& c, uint64_t n_kv) {
  metadata_.reserve(n_kv);  // bounded by the bytes left
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t at = c.pos();
    std::string key = c.string(kMaxKeyBytes, "metadata key " + std::to_string(i));
    if (key.empty()) throw c.error(at, "metadata key " + std::to_string(i) + " is empty");
    if (key_index_.count(key)) throw c.error(at, "metadata key " + printable(key) + " appears twice");
    const uint64_t type_at = c.pos();
    const auto type = c.read<uint32_t>("the value type of key " + printable(key));
    if (!is_value_type(type))
      throw c.error(type_at, "key " + printable(key) + " has unknown value type " + std::to_string(type) +
                                 " (GGUF value types are 0..12)");
    Value v = read_value(c, static_cast<ValueType>(type), "the value of key " + printable(key));
    if (key == "general.alignment") {  // a UINT32 power of two, as llama.cpp requires
      if (v.type() != ValueType::UINT32)
        throw c.error(type_at, "general.alignment is " + v.type_name() + "; it must be UINT32");
      alignment_ = v.get<uint32_t>();
      if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
        throw c.error(type_at, "general.alignment is " + std::to_string(alignment_) + "; it must be a power of two");
    }
    key_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(v));
  }
}

void File::read_tensor_infos(Cursor& c, uint64_t n_tensors) {
  tensors_.reserve(n_tensors);  // bounded by the bytes left
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const uint64_t at = c.pos();
    TensorInfo t;
    // ggml's names are at most 63 bytes (GGML_MAX_NAME with its NUL): llama.cpp refuses longer.
    t.name = c.string(kMaxTensorNameBytes, "the name of tensor " + std::to_string(i));
    const std::string what = "tensor " + printable(t.name);
    if (t.name.empty()) throw c.error(at, "the name of tensor " + std::to_string(i) + " is empty");
    if (tensor_index_.count(t.name)) throw c.error(at, what + " appears twice");
    t.shape = read_shape(c, what);
    const uint64_t type_at = c.pos();
    const auto type = c.read<uint32_t>("the type of " + what);
    const GgmlTypeInfo* info = find_ggml_type(type);
    if (info == nullptr)
      throw c.error(type_at, what + " has unknown ggml type " + std::to_string(type),
                    "the file may need a newer reader (ptft knows ggml types up to Q2_0 = 42)");
    t.type = info->type;
    t.offset = c.read<uint64_t>("the offset of " + what);
    try {
      t.nbytes = ggml_nbytes(t.type, t.numel(), t.shape.back());
    } catch (const UserError& e) {
      throw c.error(type_at, what + ": " + e.message());
    }
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
}

// Tensors follow each other in info order, each at the running offset padded to the
// alignment (what llama.cpp's gguf.cpp requires), and end inside the file.
void File::check_layout(const Cursor& c) {
  const uint64_t infos_end = c.pos();
  if (!detail::align_up(infos_end, alignment_, &data_offset_))
    throw c.error(infos_end, "the data section offset overflows");
  if (tensors_.empty()) return;  // llama.cpp needs no padding after the infos then
  if (data_offset_ > size_)
    throw c.error(infos_end, "file ends in the padding before the data section (at " +
                                 std::to_string(data_offset_) + ", alignment " +
                                 std::to_string(alignment_) + ")",
                  detail::kHintTruncated);
  const uint64_t data_size = size_ - data_offset_;
  uint64_t expected = 0;
  const TensorInfo* prev = nullptr;
  for (const auto& t : tensors_) {
    const std::string what = "tensor " + printable(t.name);
    if (t.offset != expected) {
      std::string why;
      if (t.offset % alignment_ != 0)
        why = "is not a multiple of the alignment " + std::to_string(alignment_);
      else if (t.offset < expected)
        why = "overlaps tensor " + printable(prev->name) + " (which ends at " +
              std::to_string(prev->offset + prev->nbytes) + ")";
      else
        why = "leaves a gap after " + (prev ? "tensor " + printable(prev->name) : std::string("the start"));
      throw c.error(infos_end, what + ": data offset " + std::to_string(t.offset) + " " + why +
                                   "; expected " + std::to_string(expected) +
                                   " (tensors follow each other, each padded to the alignment)");
    }
    if (t.nbytes > data_size || t.offset > data_size - t.nbytes)
      throw c.error(infos_end, what + ": its " + std::to_string(t.nbytes) + " bytes at data offset " +
                                   std::to_string(t.offset) + " lie outside the data section (" +
                                   std::to_string(data_size) + " bytes from file offset " +
                                   std::to_string(data_offset_) + ")",
                    detail::kHintTruncated);
    // offset + nbytes <= data_size < 2^64 and padding stays below the file size + alignment.
    if (!detail::align_up(t.offset + t.nbytes, alignment_, &expected))
      throw c.error(infos_end, what + ": the data offset overflows");
    prev = &t;
  }
}

}  // namespace ptft::gguf
