// ptft/io/tensor_io.h — safetensors <-> torch tensors, and state-dict loading with clear errors.
//
//   TensorMap t = load_tensors("ckpt/model.safetensors");          // zero-copy views of the mmap
//   save_tensors("out/model.safetensors", named_tensors, {{"format", "pt"}});  // atomic
//   load_into(model, t, "ckpt/model.safetensors");                   // names + shapes checked
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace ptft {

using TensorMap = std::map<std::string, torch::Tensor>;

// Tensors of a safetensors file. Tensors are read-only-backed views of a private mapping
// (writes are copy-on-write) kept alive as long as any tensor lives.
TensorMap load_tensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);
// Writes contiguous CPU copies of `tensors` atomically.
void save_tensors(const std::string& path, const TensorMap& tensors,
                  const std::map<std::string, std::string>& metadata = {});

// The module's parameters and buffers by name (what a checkpoint stores).
TensorMap state_dict(const torch::nn::Module& module);

// "a, b, c, ... (N in all)": the first `n` names, for error messages.
std::string join_first(const std::vector<std::string>& names, size_t n = 8);

struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected;
};
// Copies `tensors` into the module's parameters/buffers by name. Shape mismatches are always an
// error (listing every mismatch). With strict, missing or unexpected names are errors too.
// `source` names the file in messages.
LoadReport load_into(torch::nn::Module& module, const TensorMap& tensors, const std::string& source,
                     bool strict = true);

}  // namespace ptft
