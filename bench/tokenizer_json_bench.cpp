// tokenizer.json encode speed: ptft's HfTokenizer over a text file cut into lines (each with its
// "\n"), exactly as its peer bench/peers/tokenizer_json_peer.js (@lenml/tokenizers, the JS
// reference) cuts it, one thread, so that tokens/s and token counts compare directly.
// Run both through bench/tokenizer_json_bench.sh.
//
//   build/bench/ptft_bench_tokenizer_json data/hf-tokenizers/llama3 /tmp/corpus.txt
//
// Rows: lines with a cold piece cache (a fresh tokenizer: what the peer's single run sees) and
// the same lines again with the cache warm.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "bench_lines.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/hf_tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_DIR TEXT_FILE\n", argv[0]);
    return 2;
  }
  try {
    std::string text;
    const std::vector<std::string_view> lines = ptft::bench::read_lines(argv[2], &text);
    const auto tok = ptft::HfTokenizer::from_dir(argv[1]);
    for (const char* what : {"ptft lines, cold cache", "ptft lines, warm cache"}) {
      const auto wall0 = std::chrono::steady_clock::now();
      const std::clock_t cpu0 = std::clock();
      std::size_t tokens = 0;
      for (const auto line : lines) tokens += tok->encode(line).size();
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
      const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
      std::printf("%-24s bytes: %zu  tokens: %zu  wall s: %.3f  cpu s: %.3f  tokens/s: %.0f\n", what, text.size(),
                  tokens, wall, cpu, static_cast<double>(tokens) / wall);
    }
  } catch (const ptft::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.full().c_str());
    return e.exit_code();
  }
  return 0;
}
