#include "ptft/io/tensor_io.h"

#include <sstream>

#include "ptft/core/error.h"
#include "ptft/core/mapped_file.h"
#include "ptft/io/safetensors.h"

namespace ptft {
namespace st = ptft::safetensors;

namespace {

torch::ScalarType to_torch(st::DType d) {
  switch (d) {
    case st::DType::F64: return torch::kFloat64;
    case st::DType::F32: return torch::kFloat32;
    case st::DType::F16: return torch::kFloat16;
    case st::DType::BF16: return torch::kBFloat16;
    case st::DType::I64: return torch::kInt64;
    case st::DType::I32: return torch::kInt32;
    case st::DType::I16: return torch::kInt16;
    case st::DType::I8: return torch::kInt8;
    case st::DType::U8: return torch::kUInt8;
    case st::DType::BOOL: return torch::kBool;
  }
  throw InternalError("unhandled safetensors dtype");
}

st::DType from_torch(torch::ScalarType t, const std::string& name) {
  switch (t) {
    case torch::kFloat64: return st::DType::F64;
    case torch::kFloat32: return st::DType::F32;
    case torch::kFloat16: return st::DType::F16;
    case torch::kBFloat16: return st::DType::BF16;
    case torch::kInt64: return st::DType::I64;
    case torch::kInt32: return st::DType::I32;
    case torch::kInt16: return st::DType::I16;
    case torch::kInt8: return st::DType::I8;
    case torch::kUInt8: return st::DType::U8;
    case torch::kBool: return st::DType::BOOL;
    default: break;
  }
  throw InternalError("tensor '" + name + "' has dtype " + std::string(c10::toString(t)) +
                      ", which safetensors cannot store");
}

std::string shape_str(c10::IntArrayRef s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

}  // namespace

std::string join_first(const std::vector<std::string>& v, size_t n) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < n; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > n) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

TensorMap load_tensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  std::shared_ptr<st::File> file = st::File::open(path);
  if (metadata) *metadata = file->metadata();
  TensorMap out;
  for (const auto& info : file->tensors()) {
    auto dtype = to_torch(info.dtype);
    const uint8_t* ptr = file->data(info);
    size_t elem = st::dtype_size(info.dtype);
    if (info.nbytes() == 0 || reinterpret_cast<uintptr_t>(ptr) % elem != 0) {
      // Misaligned (or empty) data: copy instead of viewing.
      auto t = torch::empty(info.shape, torch::TensorOptions().dtype(dtype));
      if (info.nbytes()) std::memcpy(t.data_ptr(), ptr, info.nbytes());
      out[info.name] = t;
      continue;
    }
    auto keep = file;  // the tensor's deleter keeps the mapping alive
    out[info.name] = torch::from_blob(const_cast<uint8_t*>(ptr), info.shape,
                                      [keep](void*) mutable { keep.reset(); },
                                      torch::TensorOptions().dtype(dtype));
  }
  return out;
}

void save_tensors(const std::string& path, const TensorMap& tensors,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;
  std::vector<st::TensorRef> refs;
  keep.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    keep.push_back(c);
    st::TensorRef r;
    r.name = name;
    r.dtype = from_torch(c.scalar_type(), name);
    r.shape = c.sizes().vec();
    r.data = c.data_ptr();
    r.nbytes = c.numel() * c.element_size();
    refs.push_back(std::move(r));
  }
  st::write(path, refs, metadata);
}

TensorMap state_dict(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& p : module.named_parameters(true)) out[p.key()] = p.value();
  for (const auto& b : module.named_buffers(true)) out[b.key()] = b.value();
  return out;
}

LoadReport load_into(torch::nn::Module& module, const TensorMap& tensors, const std::string& source,
                     bool strict) {
  LoadReport rep;
  TensorMap target = state_dict(module);
  std::vector<std::string> mismatched;
  for (const auto& [name, dst] : target) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      rep.missing.push_back(name);
      continue;
    }
    if (!it->second.sizes().equals(dst.sizes())) {
      mismatched.push_back(name + ": file " + shape_str(it->second.sizes()) + " vs model " +
                           shape_str(dst.sizes()));
      continue;
    }
    rep.loaded.push_back(name);
  }
  for (const auto& [name, t] : tensors)
    if (!target.count(name)) rep.unexpected.push_back(name);
  if (!mismatched.empty())
    throw UserError("'" + source + "': " + std::to_string(mismatched.size()) +
                        " tensor(s) have the wrong shape: " + join_first(mismatched),
                    "the checkpoint was made for a different architecture; check the model config "
                    "(or replace the head when fine-tuning to a new number of classes)");
  if (strict && (!rep.missing.empty() || !rep.unexpected.empty())) {
    std::string msg = "'" + source + "' does not match the model:";
    if (!rep.missing.empty()) msg += " missing " + join_first(rep.missing) + ";";
    if (!rep.unexpected.empty()) msg += " unexpected " + join_first(rep.unexpected) + ";";
    throw UserError(msg, "the checkpoint was made for a different model family or config");
  }
  torch::NoGradGuard ng;
  for (const auto& name : rep.loaded) {
    auto& dst = target[name];
    const torch::Tensor& src = tensors.at(name);
    dst.copy_(src.to(dst.device(), dst.scalar_type()));
    // A tensor read from a memory-mapped file: its pages leave the process now that they are
    // copied (peak memory of a load: the model once, not twice).
    if (src.is_cpu() && src.is_contiguous() && src.data_ptr() != dst.data_ptr())
      fs::MappedFile::release_copied(src.data_ptr(), src.nbytes());
  }
  return rep;
}

}  // namespace ptft
