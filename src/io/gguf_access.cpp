// gguf::File's accessors: typed metadata with messages that name the file and key, tensor
// lookup, and F32/F16/BF16 data as floats.
#include <cstring>

#include "gguf_cursor.h"
#include "ptft/core/error.h"
#include "ptft/io/gguf.h"

namespace ptft::gguf {
namespace {

using detail::printable;

// IEEE half -> float, exact (every half is a float), subnormals, infinities and NaNs included.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: shift the leading 1 into the implicit position
    exp = 127 - 15 + 1;
    while ((mant & 0x400) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;  // bf16 is the top half of a float
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

const Value* File::find(const std::string& key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const Value& File::at(const std::string& key) const {
  if (const Value* v = find(key)) return *v;
  throw UserError(where() + " has no metadata key " + printable(key) + " (it has " +
                      std::to_string(metadata_.size()) + " keys)",
                  "the file was written for another architecture or by an older converter; "
                  "convert the model again with a current llama.cpp");
}

// Runs an accessor of `key`'s value; its UserError gains the file and key.
template <class F>
decltype(auto) with_key(const File& f, const std::string& where, const std::string& key, F&& get) {
  const Value& v = f.at(key);
  try {
    return get(v);
  } catch (const UserError& e) {
    throw UserError(where + ": key " + printable(key) + ": " + e.message(), e.hint());
  }
}

template <class T>
T File::get(const std::string& key) const {
  return with_key(*this, where(), key, [](const Value& v) { return v.get<T>(); });
}

template <class T>
std::vector<T> File::get_array(const std::string& key) const {
  return with_key(*this, where(), key, [](const Value& v) { return v.get_array<T>(); });
}

const std::string& File::get_string(const std::string& key) const {
  return with_key(*this, where(), key, [](const Value& v) -> const std::string& { return v.get_string(); });
}

const std::vector<std::string>& File::get_array_of_strings(const std::string& key) const {
  return with_key(*this, where(), key,
                  [](const Value& v) -> const std::vector<std::string>& { return v.get_strings(); });
}

uint64_t File::get_unsigned(const std::string& key) const {
  return with_key(*this, where(), key, [](const Value& v) { return v.get_unsigned(); });
}

#define PTFT_GGUF_INSTANTIATE(T)                                     \
  template T File::get<T>(const std::string&) const;                 \
  template std::vector<T> File::get_array<T>(const std::string&) const;
PTFT_GGUF_FOR_EACH_FIXED_TYPE(PTFT_GGUF_INSTANTIATE)
#undef PTFT_GGUF_INSTANTIATE

// --- tensors --------------------------------------------------------------------------------

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(const std::string& name) const {
  if (const TensorInfo* t = find_tensor(name)) return *t;
  std::string first;
  for (std::size_t i = 0; i < tensors_.size() && i < 3; ++i) first += (i ? ", " : "") + printable(tensors_[i].name);
  throw UserError(where() + " has no tensor " + printable(name) + " (it has " + std::to_string(tensors_.size()) +
                      " tensors" + (first.empty() ? "" : ": " + first + (tensors_.size() > 3 ? ", ..." : "")) + ")",
                  "check the tensor name; the file may hold another architecture");
}

const uint8_t* File::data(const TensorInfo& t) const {
  const TensorInfo* own = find_tensor(t.name);
  PTFT_CHECK(own != nullptr && own->offset == t.offset && own->nbytes == t.nbytes,
             "tensor " + printable(t.name) + " does not belong to " + where());
  return base_ + data_offset_ + t.offset;
}

std::vector<float> File::to_float(const TensorInfo& t) const {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  to_float(t, out.data(), out.size());
  return out;
}

void File::to_float(const TensorInfo& t, float* out, std::size_t n) const {
  if (t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16)
    throw UserError(where() + ": tensor " + printable(t.name) + " is " + ggml_type_name(t.type) +
                        "; ptft reads only F32/F16/BF16 GGUF files",
                    "export the model unquantised (llama.cpp: convert_hf_to_gguf.py --outtype f16 "
                    "or bf16), or dequantise it with llama-quantize --allow-requantize IN OUT F16");
  PTFT_CHECK(n == static_cast<std::size_t>(t.numel()),
             "to_float: buffer of " + std::to_string(n) + " floats for " + std::to_string(t.numel()) + " elements");
  const uint8_t* p = data(t);
  if (t.type == GgmlType::F32) {
    if (n > 0) std::memcpy(out, p, n * sizeof(float));  // the data may be unaligned: copy bytes
    return;
  }
  const bool half = t.type == GgmlType::F16;
  for (std::size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, sizeof h);
    out[i] = half ? half_to_float(h) : bf16_to_float(h);
  }
}

}  // namespace ptft::gguf
