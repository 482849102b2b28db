// tests/common/llama_cpp.h — llama.cpp itself (node-llama-cpp's prebuilt CPU build, fetched once
// by scripts/fetch-llama-cpp.sh into data/llama-cpp/) running a GGUF file through
// tests/io/llama_cpp_check.mjs: the independent reader of ptft's GGUF export.
//
//   PTFT_REQUIRE_LLAMA_CPP();                              // fetches once; a clear failure without npm
//   nlohmann::json r = test::run_llama_cpp("m.gguf", {{"tokenize", {"Hello"}}});   // r["tokenize"][0]
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "fetch.h"
#include "python.h"

namespace ptft::test {

inline const std::string& llama_cpp_root() {
  static const std::string root = PTFT_SOURCE_DIR "/data/llama-cpp";
  return root;
}

// "" when data/llama-cpp holds node-llama-cpp (fetching it if needed), else why not.
inline const std::string& llama_cpp_problem() {
  static const std::string problem = fetch_problem(
      "fetch-llama-cpp.sh", llama_cpp_root(),
      [] { return std::filesystem::exists(llama_cpp_root() + "/node_modules/node-llama-cpp/package.json"); },
      "llama.cpp (node-llama-cpp)");
  return problem;
}

// llama_cpp_check.mjs's answer to `requests` for `gguf`; a test failure (and null) when it fails.
inline nlohmann::json run_llama_cpp(const std::string& gguf, const nlohmann::json& requests) {
  const std::string req_path = gguf + ".requests.json", err_path = gguf + ".llama-cpp.log";
  std::ofstream(req_path) << requests.dump();
  int status = 0;
  const std::string out = run_command("NODE_PATH='" + llama_cpp_root() + "/node_modules' node '" PTFT_SOURCE_DIR
                                      "/tests/io/llama_cpp_check.mjs' '" + gguf + "' '" + req_path + "' 2>'" + err_path + "'",
                                      &status);
  const nlohmann::json answer = nlohmann::json::parse(out, nullptr, false);
  if (status != 0 || answer.is_discarded()) {
    std::ifstream err(err_path);
    ADD_FAILURE() << "llama.cpp on " << gguf << " exited " << status << ":\n" << out << "\n" << err.rdbuf();
    return nullptr;
  }
  return answer;
}

}  // namespace ptft::test

#define PTFT_REQUIRE_LLAMA_CPP() ASSERT_TRUE(::ptft::test::llama_cpp_problem().empty()) << ::ptft::test::llama_cpp_problem()
