// ptft/data/mlm_windows.h — masked-LM batches (BERT pre-training) from a token shard directory.
//
// Each sequence packs T - 2 consecutive tokens of the shards between [CLS] and [SEP]; the
// documents inside it are already separated by the tokenizer's end-of-text token, which is [SEP]
// for BERT vocabularies (RoBERTa's "full-sentences" packing, with BERT's specials). Then BERT's
// masking (Devlin et al. 2019, as HF's DataCollatorForLanguageModeling does it): every non-special
// token is selected with probability p (0.15); a selected token becomes [MASK] with probability
// 0.8, a random non-special token with 0.1, and stays itself with 0.1; the targets are the original
// tokens at the selected positions and -100 elsewhere. A sequence in which nothing was selected
// gets one selected position, so every sequence contributes.
//
// Every draw is a pure function of (seed, split, the example's stream position, token position):
// masks are fresh for every training example (and so every batch and epoch), a batch can be
// rebuilt from its address (exact resume, prefetch, data-parallel ranks), and the evaluation
// masks are the same at every evaluation, so validation losses compare across steps.
//
//   DataContext ctx;  ctx.tokenizer = tok;  ctx.mlm_probability = 0.15;
//   auto src = open_mlm_windows("data/shards/general", "train", ctx, /*seq_len=*/128);
//   Batch b = src->train_batch({step, micro, 32, 1});
//   b.data["input_ids"];   // (B, T) int64: [CLS] ... [SEP], some tokens [MASK] or random
//   b.data["targets"];     // (B, T) int64: original token where selected, else -100
//   b.weight;              // selected tokens
#pragma once

#include <memory>
#include <string>

#include "ptft/data/token_windows.h"

namespace ptft {

struct MlmSpecials {
  int64_t cls = -1, sep = -1, mask = -1, pad = -1;  // pad: -1 when the vocabulary has none
};

class MlmWindows : public DataSource {
 public:
  // UserError: seq_len < 8, a tokenizer without [CLS]/[SEP]/[MASK] (not a BERT vocabulary), p
  // outside (0, 1), and everything TokenWindows rejects.
  MlmWindows(const std::string& dir, const std::string& split, const DataContext& ctx, int64_t seq_len);

  std::string describe() const override;
  int64_t size() const override { return windows_->size(); }
  Batch train_batch(const BatchAddress& at) override;
  int64_t eval_batches(int64_t batch_size) const override { return windows_->eval_batches(batch_size); }
  Batch eval_batch(int64_t index, int64_t batch_size) override;

  const MlmSpecials& specials() const { return specials_; }
  // Masks the packed sequences `content` (B, T-2) of stream positions first..first+B-1: the batch
  // described above. Public for tests.
  Batch mask(const torch::Tensor& content, int64_t first, uint64_t key) const;

 private:
  std::unique_ptr<TokenWindows> windows_;  // windows of T - 2 tokens
  DataContext ctx_;
  int64_t seq_len_ = 0;
  double p_ = 0.15;
  MlmSpecials specials_;
  std::vector<int64_t> special_ids_;  // sorted: [CLS] [SEP] [MASK] [PAD] [UNK] ... never selected
  std::vector<int64_t> random_pool_;  // the non-special ids a "random" replacement draws from
  uint64_t train_key_ = 0, eval_key_ = 0;
};

std::unique_ptr<MlmWindows> open_mlm_windows(const std::string& dir, const std::string& split,
                                             const DataContext& ctx, int64_t seq_len);

}  // namespace ptft
