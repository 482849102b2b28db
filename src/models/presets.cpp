#include "ptft/models/presets.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/error.h"

// PTFT_SOURCE_CONFIG_DIR: the source tree's configs/; PTFT_INSTALL_CONFIG_DIR: the installed
// configs/ relative to the installed binary's directory (../share/ptft/configs by default).
#if !defined(PTFT_SOURCE_CONFIG_DIR) || !defined(PTFT_INSTALL_CONFIG_DIR)
#error "PTFT_SOURCE_CONFIG_DIR and PTFT_INSTALL_CONFIG_DIR are defined by CMakeLists.txt"
#endif

namespace ptft {

std::vector<std::string> preset_dirs() {
  namespace sfs = std::filesystem;
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("PTFT_CONFIG_DIR"); env && *env) dirs.push_back(std::string(env) + "/models");
  // The real path of the running binary, however it was started (PATH, a symlink, a relative path).
  std::error_code ec;
  const sfs::path exe = sfs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back((exe.parent_path() / PTFT_INSTALL_CONFIG_DIR / "models").lexically_normal().string());
    dirs.push_back((exe.parent_path() / "../configs/models").lexically_normal().string());
  }
  if (*PTFT_SOURCE_CONFIG_DIR) dirs.push_back((sfs::path(PTFT_SOURCE_CONFIG_DIR) / "models").lexically_normal().string());
  dirs.push_back("configs/models");
  return dirs;
}

std::string find_preset(const std::string& name, const std::string& where) {
  std::vector<std::string> known;
  const std::vector<std::string> dirs = preset_dirs();
  for (const auto& dir : dirs) {
    const std::string path = dir + "/" + name + ".yaml";
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml") known.push_back(e.path().stem().string());
  }
  // The same directory can be reached twice (build/../configs and ./configs): list each name once.
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  std::string hint;
  if (known.empty()) {
    hint = "no preset directory found (searched";
    for (const auto& d : dirs) hint += " " + d;
    hint += "); install ptft with `cmake --install`, or set PTFT_CONFIG_DIR to the repository's configs/";
  } else {
    hint = "known presets:";
    for (const auto& k : known) hint += " " + k;
  }
  auto near = config::nearest(name, known);
  if (!near.empty()) hint = "did you mean '" + near + "'? " + hint;
  throw UserError(where + ": unknown model preset '" + name + "'", hint);
}

}  // namespace ptft
