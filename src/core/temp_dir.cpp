#include "ptft/core/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"

namespace ptft {

TempDir::TempDir(const std::string& prefix) {
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  std::string templ = ((ec ? std::filesystem::path("/tmp") : base) / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr)
    throw UserError("cannot create a temporary directory '" + templ + "': " + std::strerror(errno),
                    "set TMPDIR to a writable directory with free space");
  path_ = templ;
}

TempDir::~TempDir() { fs::remove_all_quiet(path_); }

}  // namespace ptft
