// ptft/core/temp_dir.h — a fresh private directory under $TMPDIR (or /tmp), removed with
// everything in it when the object goes away.
//
//   TempDir tmp("ptft-gguf");                // /tmp/ptft-gguf-Ab12Cd
//   tok.save(tmp.path());  read(tmp.path() + "/vocab.json");
#pragma once

#include <string>

namespace ptft {

class TempDir {
 public:
  // UserError when no directory can be made (naming where and what to set).
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ptft
