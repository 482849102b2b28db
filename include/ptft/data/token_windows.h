// ptft/data/token_windows.h — language-model batches from a token shard directory
// (`ptft data prepare`): windows of T+1 consecutive tokens, split into inputs and targets.
//
// Training windows start at random positions, each a pure function of (seed, split, the
// example's position in the BatchAddress stream): splitmix64 of a counter, no shared RNG. So a
// batch can be rebuilt from its address alone (exact resume, prefetch on another thread), each
// data-parallel rank reads its own examples, and splitting one effective batch differently
// (grad_accum, world size) reads the same windows. Evaluation windows are consecutive and
// non-overlapping: window i holds tokens [i*T, i*T + T], covering the split once (the last
// < T tokens, which do not fill a window, are left out).
//
//   DataContext ctx;  ctx.seed = 1337;  ctx.block_size = 256;
//   auto src = open_token_windows("data/shards/general", "train", ctx, 256, tok->content_hash());
//   Batch b = src->train_batch({step, micro, 16, 1});
//   b.data["input_ids"];   // (B, T) int64
//   b.data["targets"];     // (B, T) int64: input_ids shifted left by one token
//   b.weight;              // B * T target tokens
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ptft/data/data_source.h"
#include "ptft/data/shard.h"

namespace ptft {

class TokenWindows : public DataSource {
 public:
  // Opens `split` ("train" or "val") of the shard directory `dir` (its meta.json and shards).
  // UserError: missing/damaged meta.json or shard, a split with fewer than block_size + 1 tokens
  // (the message gives both numbers), and a tokenizer hash different from
  // `expected_tokenizer_hash` (both hashes and the directory). An empty expected hash is not
  // checked (a warning says so).
  TokenWindows(const std::string& dir, const std::string& split, const DataContext& ctx, int64_t block_size,
               const std::string& expected_tokenizer_hash);

  std::string describe() const override;
  // Non-overlapping windows in one pass over the split: (tokens - 1) / T.
  int64_t size() const override;
  // Thread-safe: reads the read-only mappings only.
  Batch train_batch(const BatchAddress& at) override;
  int64_t eval_batches(int64_t batch_size) const override;
  Batch eval_batch(int64_t index, int64_t batch_size) override;

  int64_t tokens() const { return total_; }
  int64_t block_size() const { return block_; }
  const std::string& tokenizer_hash() const { return tokenizer_hash_; }
  int64_t vocab_size() const { return vocab_size_; }
  // Window start of the training example at stream position `example` (see the header comment).
  int64_t train_window_start(int64_t example) const;

 private:
  // Tokens [begin, begin + n) across shard boundaries into `out`.
  void read(int64_t begin, int64_t n, int64_t* out) const;
  Batch make_batch(const std::vector<int64_t>& starts) const;

  std::string dir_, split_;
  DataContext ctx_;
  int64_t block_ = 0;
  std::vector<std::unique_ptr<shard::Reader>> shards_;
  std::vector<int64_t> offsets_;  // first token of each shard in the split; back() = total
  int64_t total_ = 0;
  std::string tokenizer_hash_, tokenizer_kind_;
  int64_t vocab_size_ = 0;
  uint64_t stream_key_ = 0;  // seed and split, mixed
};

std::unique_ptr<TokenWindows> open_token_windows(const std::string& dir, const std::string& split,
                                                 const DataContext& ctx, int64_t block_size,
                                                 const std::string& expected_tokenizer_hash);

// Whether `dir` is a token shard directory (holds meta.json).
bool is_token_shard_dir(const std::string& dir);

}  // namespace ptft
