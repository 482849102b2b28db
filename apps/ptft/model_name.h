// model_name.h — the short name of a model path, for what other tools show (GGUF general.name,
// serve's model id): a run's name for its checkpoints (runs/NAME/checkpoints/best -> NAME), else
// the last part of the path (a .gguf / .safetensors file without its extension).
#pragma once

#include <filesystem>
#include <string>

namespace ptft::cli {

inline std::string model_name(const std::string& path) {
  std::filesystem::path p = std::filesystem::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  if (p.parent_path().filename() == "checkpoints") p = p.parent_path().parent_path();
  const std::string ext = p.extension().string();
  return ext == ".gguf" || ext == ".safetensors" ? p.stem().string() : p.filename().string();  // "Qwen2.5-0.5B" keeps its dot
}

}  // namespace ptft::cli
