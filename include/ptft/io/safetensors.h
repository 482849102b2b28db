// ptft/io/safetensors.h — read and write .safetensors files without torch.
//
// Format (https://github.com/huggingface/safetensors):
//   [8 bytes: N, u64 little endian][N bytes: JSON header, padded with spaces][data section]
//   header = {"__metadata__": {"k": "v"},                       // optional, string -> string
//             "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//   offsets are relative to the start of the data section; the tensors tile it exactly.
//
// Reading validates the whole header as strictly as the reference (Rust) implementation and
// maps the file read-only (MAP_PRIVATE: an accidental write through data() is copy-on-write
// and never reaches the disk). Any malformed input is a UserError naming the file and the
// problem; no other exception escapes File::open/from_bytes.
//
//   auto f = ptft::safetensors::File::open("model.safetensors");
//   const auto& w = f->at("wte.weight");            // UserError lists close names if absent
//   const float* p = reinterpret_cast<const float*>(f->data(w));   // w.shape = (V, C)
//
//   std::vector<float> bias(64);
//   ptft::safetensors::write("out.safetensors",
//       {{"bias", DType::F32, {64}, bias.data(), bias.size() * sizeof(float)}},
//       {{"format", "pt"}});
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ptft::fs {
class MappedFile;
}

namespace ptft::safetensors {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtype_size(DType);          // bytes per element
const char* dtype_name(DType);          // "F32", ... (the spelling used in the header)
DType parse_dtype(const std::string&);  // UserError for unknown names (lists the valid ones)

// The largest header the reference implementation accepts.
constexpr uint64_t kMaxHeaderSize = 100'000'000;

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // empty: a scalar (numel 1); a 0 anywhere: numel 0
  uint64_t begin = 0, end = 0;  // byte offsets relative to the start of the data section
  int64_t numel() const;
  uint64_t nbytes() const { return end - begin; }
};

// A validated, memory-mapped safetensors file (read-only view).
class File {
 public:
  // Maps `path`; UserError if it cannot be opened or is not a valid safetensors file.
  static std::shared_ptr<File> open(const std::string& path);
  // Same validation on bytes in memory; `name` stands for the path in messages.
  static std::shared_ptr<File> from_bytes(std::string bytes, std::string name = "<memory>");

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data-offset order
  const TensorInfo* find(const std::string& name) const;              // nullptr if absent
  // UserError naming the file, the missing tensor and a few close names.
  const TensorInfo& at(const std::string& name) const;
  // "__metadata__" (string -> string only, as the format says); empty if absent.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Pointer to the tensor's first byte inside the mapping (no alignment guaranteed beyond 1).
  const uint8_t* data(const TensorInfo&) const;
  const std::string& path() const { return path_; }
  // Bytes of the header JSON (N) and of the data section.
  uint64_t header_size() const { return header_size_; }
  uint64_t data_size() const { return data_size_; }

  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

 private:
  File() = default;
  void parse();  // fills tensors_/metadata_ from base_/size_, throws UserError

  std::string path_;
  std::string bytes_;                   // owns the bytes for from_bytes()
  std::unique_ptr<fs::MappedFile> map_;  // the mapping for open()
  const uint8_t* base_ = nullptr;  // start of the file's bytes
  uint64_t size_ = 0;
  uint64_t header_size_ = 0;
  uint64_t data_size_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: the caller owns the bytes.
struct TensorRef {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  std::size_t nbytes;
};

// Serialises to bytes: header JSON (metadata first, then the tensors in the order given, fields
// in the order dtype, shape, data_offsets) padded with spaces to a multiple of 8; data in the
// order given, tightly packed. UserError on duplicate names, the name "__metadata__", a
// negative dimension, nbytes != numel * dtype_size, or a name/metadata that is not UTF-8.
std::string serialize(const std::vector<TensorRef>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Writes the same bytes atomically via ptft::fs::AtomicFile, streaming each tensor's data.
// UserError naming the directory if it does not exist.
void write(const std::string& path, const std::vector<TensorRef>& tensors,
           const std::map<std::string, std::string>& metadata = {});

}  // namespace ptft::safetensors
