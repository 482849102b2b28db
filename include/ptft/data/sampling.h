// ptft/data/sampling.h — the addressed example stream that every DataSource reads from.
//
// Training examples form one endless stream. Optimizer step s owns the positions
// [s * per_step, (s + 1) * per_step), per_step = micro_batch * grad_accum * world_size; inside a
// step, micro-batch m of rank r starts at (m * world_size + r) * micro_batch. So a batch is a
// pure function of its address, and splitting one effective batch differently (accumulation,
// more ranks) reads the same examples. A source maps a position to an example either by hashing
// it (splitmix64; token windows) or through a fresh permutation of its examples per epoch
// (EpochShuffle; finite data sets).
//
//   EpochShuffle order(n_examples, /*key=*/splitmix64(seed));
//   const int64_t first = stream_position(at, ctx);
//   for (int64_t j = 0; j < at.micro_batch; ++j) use(order.example(first + j));
//   std::vector<int64_t> batch = order.examples(first, at.micro_batch);     // the same, at once
//   auto [begin, end] = eval_batch_range(n_examples, index, batch_size);   // evaluation
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "ptft/data/data_source.h"

namespace ptft {

// A well-mixed 64-bit hash of a counter (Steele et al.'s SplitMix64 finaliser).
inline uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Stream position of the first example of micro-batch `at` on rank ctx.rank (see above).
inline int64_t stream_position(const BatchAddress& at, const DataContext& ctx) {
  const int64_t per_step = at.micro_batch * at.grad_accum * ctx.world_size;
  return at.step * per_step + (at.micro * ctx.world_size + ctx.rank) * at.micro_batch;
}

// Sequential evaluation over n examples in batches of `batch_size` (the last one partial):
// how many batches, and the examples [begin, end) of batch `index` (InternalError when a
// batch size or index is out of range).
int64_t eval_batch_count(int64_t n, int64_t batch_size);
std::pair<int64_t, int64_t> eval_batch_range(int64_t n, int64_t index, int64_t batch_size);
// The same batch as example indices: begin, begin + 1, ..., end - 1.
std::vector<int64_t> eval_batch_examples(int64_t n, int64_t index, int64_t batch_size);

// Epoch-wise shuffling of n examples: stream position p is example perm_e[p % n] of epoch
// e = p / n, perm_e = torch::randperm(n) from a CPU generator seeded with key + e. Each epoch
// visits every example once. Thread-safe; the last few epochs' permutations are cached.
class EpochShuffle {
 public:
  EpochShuffle(int64_t n, uint64_t key);
  int64_t example(int64_t position);
  // The examples at stream positions first, first + 1, ..., first + count - 1 (one micro-batch).
  std::vector<int64_t> examples(int64_t first, int64_t count);
  int64_t size() const { return n_; }

 private:
  int64_t n_;
  uint64_t key_;
  std::mutex mu_;
  std::map<int64_t, torch::Tensor> perms_;  // epoch -> (n) int64 permutation
};

}  // namespace ptft
