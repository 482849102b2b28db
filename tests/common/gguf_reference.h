// tests/common/gguf_reference.h — the reference GGUF implementation, @huggingface/gguf, that
// scripts/fetch-gguf-reference.sh fetches from npm into data/gguf-reference/, run through
// tests/io/gguf_check.js.
//
//   PTFT_REQUIRE_GGUF_REFERENCE();                       // fetches once; a clear failure without npm
//   nlohmann::json h = test::gguf_reference_read(path);  // the header as the reference reads it
//   test::gguf_reference_rewrite(in, out);               // the reference writes a header for in's data
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "fetch.h"
#include "python.h"

namespace ptft::test {

inline const std::string& gguf_reference_root() {
  static const std::string root = PTFT_SOURCE_DIR "/data/gguf-reference";
  return root;
}

// "" when data/gguf-reference holds the packages (fetching them if needed), else why not.
inline const std::string& gguf_reference_problem() {
  static const std::string problem = fetch_problem(
      "fetch-gguf-reference.sh", gguf_reference_root(),
      [] {
        const std::string m = gguf_reference_root() + "/node_modules/@huggingface/";
        return std::filesystem::exists(m + "gguf/dist/index.js") && std::filesystem::exists(m + "tasks/package.json");
      },
      "@huggingface/gguf and @huggingface/tasks are");
  return problem;
}

// Runs tests/io/gguf_check.js with `args`; a test failure (and "") when node fails.
inline std::string gguf_check(const std::string& args) {
  int status = 0;
  const std::string cmd =
      "node '" PTFT_SOURCE_DIR "/tests/io/gguf_check.js' '" + gguf_reference_root() + "' " + args + " 2>&1";
  std::string out = run_command(cmd, &status);
  if (status == 0) return out;
  ADD_FAILURE() << "the GGUF reference failed (is node installed?): " << cmd << "\n" << out.substr(0, 2000);
  return {};
}

inline nlohmann::json gguf_reference_read(const std::string& file) {
  const std::string out = gguf_check("read '" + file + "'");
  return out.empty() ? nlohmann::json() : nlohmann::json::parse(out);
}

inline void gguf_reference_rewrite(const std::string& in, const std::string& out) {
  gguf_check("rewrite '" + in + "' '" + out + "'");
}

}  // namespace ptft::test

#define PTFT_REQUIRE_GGUF_REFERENCE() \
  ASSERT_TRUE(::ptft::test::gguf_reference_problem().empty()) << ::ptft::test::gguf_reference_problem()
