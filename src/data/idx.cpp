#include "ptft/data/idx.h"

#include <cstring>
#include <filesystem>
#include <utility>

#include "ptft/core/error.h"
#include "ptft/data/idx_array.h"

namespace ptft {
namespace {

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

torch::Tensor read_idx(const std::string& path) {
  const IdxArray a = read_idx_array(path);  // every check: ptft/data/idx_array.h
  auto out = torch::empty(a.dims, torch::kUInt8);
  std::memcpy(out.data_ptr<uint8_t>(), a.data.data(), a.data.size());
  return out;
}

bool is_idx_images_path(const std::string& path) {
  std::string name = file_name(path);
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  return ends_with(name, "-images-idx3-ubyte") || ends_with(name, "-images.idx3-ubyte");
}

std::string idx_labels_path(const std::string& images_path) {
  PTFT_CHECK(is_idx_images_path(images_path), "not an IDX images path: " + images_path);
  std::string p = images_path;
  const std::pair<std::string, std::string> names[] = {{"-images-idx3-ubyte", "-labels-idx1-ubyte"},
                                                       {"-images.idx3-ubyte", "-labels.idx1-ubyte"}};
  for (const auto& [from, to] : names) {
    const auto at = p.rfind(from);
    if (at != std::string::npos) {
      p.replace(at, from.size(), to);
      break;
    }
  }
  std::error_code ec;
  if (std::filesystem::exists(p, ec)) return p;
  const std::string other = ends_with(p, ".gz") ? p.substr(0, p.size() - 3) : p + ".gz";
  return std::filesystem::exists(other, ec) ? other : p;
}

}  // namespace ptft
