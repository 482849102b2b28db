// ptft/data/text_classification.h — text and sentence-pair classification examples from JSONL,
// encoded for BERT the way Hugging Face's BertTokenizer does it.
//
// One example per line, either form (other fields of a row are ignored; blank lines skipped):
//   {"text": "The court dismissed the appeal.", "label": "law"}
//   {"text_a": "A man plays a guitar.", "text_b": "Someone makes music.", "label": 1}
// A label is a string or an integer (an integer names the class by its decimal string, "1").
// Invalid UTF-8 bytes become U+FFFD.
//
// Encoding (encode_for_classification, shared with prediction):
//   single:  [CLS] a [SEP]            token_type_ids 0 ... 0
//   pair:    [CLS] a [SEP] b [SEP]    token_type_ids 0 for [CLS] a [SEP], 1 for b [SEP]
// cut to the model's context (max_position_embeddings) by HF's "longest_first" rule: one token
// at a time from the end of the longer of a and b (b when they are equally long).
//
// Class ids: DataContext::classes when given (the training data's classes, passed on to the val
// data: a label outside them is an error), else the distinct labels sorted (numerically when
// every label is an integer, "2" before "10"; else by bytes).
//
// Batches are padded to their longest example; Batch.weight = B. Training batches follow the
// stream positions of ptft/data/sampling.h through a fresh shuffle of the examples every epoch
// (a function of seed and split: exact resume); evaluation batches go through the file in order.
//
//   DataContext ctx;  ctx.block_size = 128;  ctx.tokenizer = load_tokenizer("ckpt/tokenizer");
//   TextClassificationJsonl src("data/fortunes/train.jsonl", "train", ctx);
//   Batch b = src.train_batch({step, micro, 32, 1});
//   b.data["input_ids"];       // (B, T_b) int64, [PAD] after the end; T_b = longest example (<= T)
//   b.data["token_type_ids"];  // (B, T_b) int64, 0 on padding
//   b.data["attention_mask"];  // (B, T_b) int64, 1 = token, 0 = padding
//   b.data["y"];               // (B) int64 class ids, names in src.class_names()
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptft/data/data_source.h"
#include "ptft/data/sampling.h"

namespace ptft {

// The ids of BERT's [CLS], [SEP] and [PAD] in a tokenizer's vocabulary.
struct ClassificationSpecials {
  int32_t cls = 0;
  int32_t sep = 0;
  int32_t pad = 0;
  // UserError when `tok` lacks any of them (a GPT-2 or gpt-family vocabulary): text
  // classification needs a BERT vocabulary. `what` names the data or model in the message.
  static ClassificationSpecials of(const Tokenizer& tok, const std::string& what);
};

struct EncodedText {
  std::vector<int64_t> ids;    // (L) token ids, L <= max_len
  std::vector<int64_t> types;  // (L) token_type_ids: 0 = [CLS] a [SEP], 1 = b [SEP]
  bool truncated = false;      // tokens of a or b were cut to fit max_len
};

// [CLS] a [SEP] (b == nullptr) or [CLS] a [SEP] b [SEP], longest-first truncated to `max_len`
// tokens (InternalError when max_len is below the 2 or 3 special tokens).
EncodedText encode_for_classification(const Tokenizer& tok, const ClassificationSpecials& sp, std::string_view a,
                                      const std::string* b, int64_t max_len);

// The model inputs of encoded texts, padded to the longest with `pad`: input_ids, token_type_ids
// (0 on padding), attention_mask (1 = token, 0 = padding), each (B, T_b) int64.
TensorMap classification_inputs(const std::vector<EncodedText>& texts, int32_t pad);

class TextClassificationJsonl : public DataSource {
 public:
  // Reads and encodes every row of `path` with ctx.tokenizer (UserError when null), cut to
  // ctx.block_size tokens (UserError when < 4). `split` ("train", "val") names the data in
  // messages and picks the shuffle. UserErrors name the file and the 1-based line: not JSON,
  // not an object, missing or non-string text fields, a label that is neither a string nor an
  // integer, a label outside ctx.classes; and the file when it has no rows, or when a training
  // split (without ctx.classes) has fewer than 2 classes.
  TextClassificationJsonl(const std::string& path, const std::string& split, const DataContext& ctx);

  std::string describe() const override;
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  // Thread-safe: reads the immutable token arrays (and the locked shuffle cache) only.
  Batch train_batch(const BatchAddress& at) override;
  int64_t eval_batches(int64_t batch_size) const override;
  Batch eval_batch(int64_t index, int64_t batch_size) override;
  std::vector<std::string> class_names() const override { return class_names_; }

  // Examples per class id.
  std::vector<int64_t> class_counts() const;
  int64_t truncated() const { return truncated_; }  // examples cut to the context length
  int64_t pairs() const { return pairs_; }          // text_a/text_b examples
  // Example `i` (file order) as encoded: ids, token types and its class id.
  EncodedText example(int64_t i) const;
  int64_t label(int64_t i) const;

 private:
  Batch make_batch(const std::vector<int64_t>& examples) const;

  std::string path_, split_;
  DataContext ctx_;
  ClassificationSpecials specials_;
  std::vector<int32_t> ids_;        // all examples' tokens, back to back
  std::vector<uint8_t> types_;      // per token: its token_type_id (0 or 1)
  std::vector<int64_t> offsets_;    // example i = [offsets_[i], offsets_[i+1])
  std::vector<int64_t> labels_;     // (N) class ids
  std::vector<std::string> class_names_;
  int64_t truncated_ = 0;
  int64_t pairs_ = 0;
  std::unique_ptr<EpochShuffle> order_;
};

// Whether `path` is text-classification JSONL: *.jsonl or *.jsonl.gz whose first non-blank line
// is a JSON object with a "label" key (SFT chat rows have none). False for an unreadable file.
bool is_text_classification_jsonl(const std::string& path);

}  // namespace ptft
