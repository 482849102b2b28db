// ptft/data/sft_jsonl.h — chat / instruction fine-tuning (SFT) examples from a JSONL file.
//
// One example per line, either form:
//   {"prompt": "What is a tort?", "response": "A civil wrong.", "system": "Be brief."}  (system optional)
//   {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}, ...]}
// (a messages row needs at least one assistant message; other fields of a row are ignored).
// Blank lines are skipped; invalid UTF-8 bytes become U+FFFD.
//
// Each example is rendered by the chat template (ptft/data/chat_template.h) into pieces, and
// every piece is encoded on its own, so each token is wholly prompt or wholly answer:
//   ids     = encode(piece 0) ++ encode(piece 1) ++ ...          (L tokens)
//   input   = ids[0 .. L-1)
//   target  = ids[1 .. L), -100 where the token belongs to a prompt piece
// Only the assistant turns (content + assistant_end, e.g. "<|endoftext|>\n") are learnt.
// An example longer than the model's context T is cut to T + 1 tokens (inputs of T); one that
// then has no answer token left is dropped. Both are counted in describe() and in a warning.
//
// Batches are padded to their longest example: input_ids with the end-of-text id, targets with
// -100; Batch.weight = the number of targets that count. Training batches follow the stream
// positions of ptft/data/sampling.h through a fresh shuffle of the examples every epoch
// (a function of seed and split: exact resume); evaluation batches go through the file in order.
//
//   DataContext ctx;  ctx.block_size = 256;  ctx.tokenizer = load_tokenizer("ckpt/tokenizer");
//   auto src = open_sft_jsonl("data/sft/medical/train.jsonl", "train", ctx);
//   Batch b = src->train_batch({step, micro, 8, 1});
//   b.data["input_ids"];  // (B, T_b) int64, T_b = longest example in the batch - 1 (<= T)
//   b.data["targets"];    // (B, T_b) int64, -100 = not learnt
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ptft/data/chat_template.h"
#include "ptft/data/data_source.h"
#include "ptft/data/sampling.h"

namespace ptft {

struct SftStats {
  int64_t rows = 0;       // non-blank lines read
  int64_t truncated = 0;  // examples cut to the context length (kept or dropped)
  int64_t dropped = 0;    // examples with no answer token within the context
  int64_t tokens = 0;     // tokens of the kept examples (after truncation)
  int64_t trained = 0;    // targets that count, over the kept examples
};

class SftJsonl : public DataSource {
 public:
  // Reads and tokenizes `path` with ctx.tokenizer (UserError when null) and ctx.chat_template
  // (null: the built-in "ptft-chat"). `split` ("train", "val") names the data in messages and
  // picks the shuffle. UserErrors name the file and the 1-based line: not JSON, not an object,
  // missing or non-string fields, an unknown role, no assistant message; and the file when it
  // has no rows or every example is dropped.
  SftJsonl(const std::string& path, const std::string& split, const DataContext& ctx);

  std::string describe() const override;
  int64_t size() const override { return static_cast<int64_t>(offsets_.size()) - 1; }
  // Thread-safe: reads the immutable token arrays (and the locked shuffle cache) only.
  Batch train_batch(const BatchAddress& at) override;
  int64_t eval_batches(int64_t batch_size) const override;
  Batch eval_batch(int64_t index, int64_t batch_size) override;

  const SftStats& stats() const { return stats_; }
  // Example `i` (0-based among the kept ones, in file order) as token ids and, per token,
  // whether the loss learns it.
  std::vector<int32_t> example_ids(int64_t i) const;
  std::vector<bool> example_trained(int64_t i) const;

 private:
  Batch make_batch(const std::vector<int64_t>& examples) const;

  std::string path_, split_, template_name_;
  DataContext ctx_;
  int32_t pad_id_ = 0;
  std::vector<int32_t> ids_;        // all kept examples' tokens, back to back
  std::vector<uint8_t> trained_;    // per token: 1 = an answer token (learnt as a target)
  std::vector<int64_t> offsets_;    // example i = [offsets_[i], offsets_[i+1])
  SftStats stats_;
  std::unique_ptr<EpochShuffle> order_;
};

std::unique_ptr<SftJsonl> open_sft_jsonl(const std::string& path, const std::string& split, const DataContext& ctx);

// Whether `path` names an SFT JSONL file by its name (*.jsonl, *.jsonl.gz).
bool is_sft_jsonl_path(const std::string& path);

}  // namespace ptft
