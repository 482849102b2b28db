// tests/common/temp_dir.h — a unique directory under the GoogleTest temp dir, removed with
// everything in it when the object goes out of scope.
//
//   test::TempDir tmp("resume");   // tmp.path: ".../ptft_resume_<pid>_<n>"
//   const std::string cfg = tmp.write("a.yaml", "train: {steps: 2}\n");   // tmp.path + "/a.yaml"
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace ptft::test {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& stem) {
    static std::atomic<int> counter{0};
    path = ::testing::TempDir() + "ptft_" + stem + "_" + std::to_string(::getpid()) + "_" +
           std::to_string(counter++);
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  // Writes `text` (bytes as they are) to path/name and returns that path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = path + "/" + name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace ptft::test
