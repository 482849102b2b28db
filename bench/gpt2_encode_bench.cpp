// GPT-2 BPE encode speed: ptft's Gpt2Bpe over a text file, cut into lines (each with its
// "\n") exactly as its peer bench/peers/gpt2_encode_peer.js (the npm JS reference encoder) cuts
// it, so that the two MB/s and token counts compare directly. One run of each; no Google
// Benchmark (the JS peer cannot join it anyway).
//
//   # 5.0 MB of legal and general English text:
//   (cat /usr/share/common-licenses/*; zcat /usr/share/dictd/gcide.dict.dz | head -c 4700000)
//   >/tmp/gpt2_bench.txt scripts/fetch-gpt2-tokenizer.sh build/bench/ptft_bench_gpt2_encode
//   data/gpt2 /tmp/gpt2_bench.txt [THREADS] node bench/peers/gpt2_encode_peer.js data/gpt2
//   /tmp/gpt2_bench.txt
//
// Rows: lines with a cold piece cache (a fresh tokenizer: what the peer's single run sees),
// lines again with the cache warm, the whole file in one encode() call, and THREADS threads
// (default: the hardware's) sharing the lines, as data preparation runs it.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_lines.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/gpt2_bpe.h"

namespace {

// Wall time and this process's CPU time (all threads): on a loaded machine the CPU time of a
// one-thread row is the steadier number.
struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  std::clock_t cpu = std::clock();
};

void report(const char* what, std::size_t bytes, std::size_t tokens, const Timer& t0) {
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0.wall).count();
  const double cpu = static_cast<double>(std::clock() - t0.cpu) / CLOCKS_PER_SEC;
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf(
      "%-32s bytes: %zu  tokens: %zu  wall s: %.3f  MB/s: %.2f  cpu s: %.3f  MB/cpu-s: %.2f\n",
      what, bytes, tokens, wall, mb / wall, cpu, mb / cpu);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s GPT2_DIR TEXT_FILE [THREADS]\n", argv[0]);
    return 2;
  }
  try {
    std::string text;
    const std::vector<std::string_view> lines = ptft::bench::read_lines(argv[2], &text);
    std::printf("input: %s, %zu bytes, %zu lines\n", argv[2], text.size(), lines.size());

    auto encode_lines = [&](const ptft::Gpt2Bpe& tok, const char* what) {
      const Timer t0;
      std::size_t tokens = 0;
      for (const auto line : lines) tokens += tok.encode(line).size();
      report(what, text.size(), tokens, t0);
    };
    {
      const auto tok = ptft::Gpt2Bpe::from_dir(argv[1]);
      encode_lines(*tok, "ptft lines, cold cache");
      encode_lines(*tok, "ptft lines, warm cache");
    }
    {
      const auto tok = ptft::Gpt2Bpe::from_dir(argv[1]);
      const Timer t0;
      const std::size_t tokens = tok->encode(text).size();
      report("ptft whole file, one call", text.size(), tokens, t0);
    }
    const int threads = argc > 3
                            ? std::atoi(argv[3])
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    {
      const auto tok = ptft::Gpt2Bpe::from_dir(argv[1]);
      std::vector<std::size_t> tokens(threads, 0);
      const Timer t0;
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          for (std::size_t i = t; i < lines.size(); i += threads)
            tokens[t] += tok->encode(lines[i]).size();
        });
      }
      for (auto& th : pool) th.join();
      std::size_t total = 0;
      for (const auto n : tokens) total += n;
      const std::string what = "ptft lines, " + std::to_string(threads) + " threads, cold";
      report(what.c_str(), text.size(), total, t0);
    }
  } catch (const ptft::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.full().c_str());
    return e.exit_code();
  }
  return 0;
}
