// gguf::Writer: validates metadata and tensors as they are added, then writes a v3 file with
// every tensor streamed from its source and padded to the alignment (as llama.cpp writes them).
#include <limits>

#include "gguf_cursor.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/io/gguf.h"

namespace ptft::gguf {
namespace {

using detail::printable;

constexpr const char* kWhere = "GGUF writer";

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);  // little-endian host
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

void put_value(std::string& out, const Value& v) {
  put<uint32_t>(out, static_cast<uint32_t>(v.type()));
  if (v.type() == ValueType::STRING) return put_string(out, v.get_string());
  if (v.type() != ValueType::ARRAY) {
    out += v.raw();
    return;
  }
  put<uint32_t>(out, static_cast<uint32_t>(v.array_type()));
  put<uint64_t>(out, v.array_size());
  if (v.array_type() != ValueType::STRING) {
    out += v.raw();
    return;
  }
  for (const auto& s : v.strings()) put_string(out, s);
}

// What the reader would refuse, refused here so that ptft never writes a file it cannot read.
void check_value(const std::string& key, const Value& v) {
  auto fail = [&](const std::string& what) {
    return UserError(std::string(kWhere) + ": key " + printable(key) + ": " + what,
                     "GGUF readers refuse such values; shorten or split it");
  };
  if (v.type() == ValueType::ARRAY && v.array_size() > kMaxArrayCount)
    throw fail("array of " + std::to_string(v.array_size()) + " elements exceeds the limit of " +
               std::to_string(kMaxArrayCount));
  for (const auto& s : v.strings())
    if (s.size() > kMaxStringBytes)
      throw fail("string of " + std::to_string(s.size()) + " bytes exceeds the limit of " +
                 std::to_string(kMaxStringBytes));
  if (key == "general.alignment") {
    if (v.type() != ValueType::UINT32)
      throw UserError(std::string(kWhere) + ": general.alignment is " + v.type_name() + "; it must be UINT32",
                      "pass a uint32_t, e.g. set(\"general.alignment\", uint32_t{64})");
    const uint32_t a = v.get<uint32_t>();
    if (a == 0 || (a & (a - 1)) != 0)
      throw UserError(std::string(kWhere) + ": general.alignment is " + std::to_string(a) +
                          "; it must be a power of two",
                      "use 32 (the default) or another power of two");
  }
}

}  // namespace

void Writer::set(const std::string& key, Value value) {
  if (key.empty() || key.size() > kMaxKeyBytes)
    throw UserError(std::string(kWhere) + ": metadata key of " + std::to_string(key.size()) +
                        " bytes; keys have 1 to " + std::to_string(kMaxKeyBytes),
                    "use a dotted name such as general.name");
  if (key_index_.count(key))
    throw UserError(std::string(kWhere) + ": metadata key " + printable(key) + " is set twice",
                    "each key may appear once in a GGUF file");
  check_value(key, value);
  key_index_.emplace(key, metadata_.size());
  metadata_.emplace_back(key, std::move(value));
}

void Writer::add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& shape,
                        const void* data, uint64_t nbytes) {
  const uint64_t need = checked_nbytes(name, type, shape);
  const std::string what = std::string(kWhere) + ": tensor " + printable(name);
  if (nbytes != need)
    throw UserError(what + ": nbytes is " + std::to_string(nbytes) + " but " + ggml_type_name(type) +
                        " with this shape needs " + std::to_string(need),
                    "pass the tensor's contiguous byte size");
  if (nbytes > 0 && data == nullptr) throw UserError(what + ": data is null", "pass a pointer to the tensor's bytes");
  add_tensor(name, type, shape, [data, nbytes](const Sink& sink) {
    if (nbytes > 0) sink(data, static_cast<std::size_t>(nbytes));
  });
}

void Writer::add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& shape, Fill fill) {
  const uint64_t nbytes = checked_nbytes(name, type, shape);
  tensor_index_.emplace(name, tensors_.size());
  tensors_.push_back({name, type, shape, nbytes, std::move(fill)});
}

// The tensor's byte size, after the checks the reader makes (and a new name).
uint64_t Writer::checked_nbytes(const std::string& name, GgmlType type, const std::vector<int64_t>& shape) const {
  const std::string what = std::string(kWhere) + ": tensor " + printable(name);
  if (name.empty() || name.size() > kMaxTensorNameBytes)
    throw UserError(what + ": the name has " + std::to_string(name.size()) + " bytes; ggml allows 1 to " +
                        std::to_string(kMaxTensorNameBytes),
                    "shorten the name (llama.cpp's names look like blk.0.attn_q.weight)");
  if (tensor_index_.count(name))
    throw UserError(what + " is added twice", "tensor names must be unique");
  if (find_ggml_type(static_cast<uint32_t>(type)) == nullptr)
    throw UserError(what + ": unknown ggml type " + std::to_string(static_cast<uint32_t>(type)),
                    "use a gguf::GgmlType enumerator");
  if (shape.empty() || shape.size() > kMaxDims)
    throw UserError(what + ": " + std::to_string(shape.size()) + " dimensions; ggml tensors have 1 to " +
                        std::to_string(kMaxDims),
                    "reshape it (a scalar is shape {1})");
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 1 || numel > std::numeric_limits<int64_t>::max() / d)
      throw UserError(what + ": dimension " + std::to_string(d) +
                          (d < 1 ? " (every dimension must be at least 1)" : " overflows the element count"),
                      "check the shape");
    numel *= d;
  }
  try {
    return ggml_nbytes(type, numel, shape.back());
  } catch (const UserError& e) {
    throw UserError(what + ": " + e.message(), e.hint());
  }
}

uint32_t Writer::alignment() const {
  auto it = key_index_.find("general.alignment");
  return it == key_index_.end() ? kDefaultAlignment : metadata_[it->second].second.get<uint32_t>();
}

std::string Writer::header() const {
  std::string h = "GGUF";
  put<uint32_t>(h, 3);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    put_string(h, key);
    put_value(h, value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(h, t.name);
    put<uint32_t>(h, static_cast<uint32_t>(t.shape.size()));
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) put<uint64_t>(h, static_cast<uint64_t>(*d));
    put<uint32_t>(h, static_cast<uint32_t>(t.type));
    put<uint64_t>(h, offset);
    if (!detail::align_up(offset + t.nbytes, alignment(), &offset))
      throw UserError(std::string(kWhere) + ": the tensors add up to more than 2^64 bytes", "write fewer tensors");
  }
  uint64_t padded = h.size();
  detail::align_up(h.size(), alignment(), &padded);  // a header never nears 2^64 bytes
  h.resize(padded, '\0');
  return h;
}

void Writer::stream(const Sink& out) const {
  const std::string h = header();
  out(h.data(), h.size());
  const std::string zeros(alignment(), '\0');
  for (const auto& t : tensors_) {
    uint64_t written = 0;
    // Counts what the fill writes and stops it as soon as it writes more than the tensor holds.
    const Sink counted = [&](const void* data, std::size_t size) {
      if (size > t.nbytes - written)
        throw UserError(std::string(kWhere) + ": tensor " + printable(t.name) + ": its data source wrote more than " +
                            std::to_string(t.nbytes) + " bytes",
                        "the data must match the type and shape given to add_tensor");
      written += size;
      if (size > 0) out(data, size);
    };
    t.fill(counted);
    if (written != t.nbytes)
      throw UserError(std::string(kWhere) + ": tensor " + printable(t.name) + ": its data source wrote " +
                          std::to_string(written) + " of " + std::to_string(t.nbytes) + " bytes",
                      "the data must match the type and shape given to add_tensor");
    const uint64_t pad = (alignment() - t.nbytes % alignment()) % alignment();
    if (pad > 0) out(zeros.data(), static_cast<std::size_t>(pad));
  }
}

std::string Writer::to_bytes() const {
  std::string out;
  stream([&](const void* data, std::size_t size) { out.append(static_cast<const char*>(data), size); });
  return out;
}

void Writer::write(const std::string& path) const {
  const std::string where = "writing GGUF file '" + path + "'";
  fs::require_parent_dir(path, where);
  try {
    fs::AtomicFile f(path);
    stream([&](const void* data, std::size_t size) { f.write(data, size); });
    f.commit();
  } catch (const UserError& e) {
    throw e.with_context(where);
  }
}

}  // namespace ptft::gguf
