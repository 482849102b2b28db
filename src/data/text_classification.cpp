#include "ptft/data/text_classification.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/hash.h"
#include "ptft/core/log.h"
#include "ptft/data/sft_jsonl.h"
#include "ptft/data/text_classification_row.h"
#include "ptft/data/text_inputs.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

ClassificationSpecials ClassificationSpecials::of(const Tokenizer& tok, const std::string& what) {
  std::vector<std::string> missing;
  auto id = [&](const std::string& token) {
    const auto found = tok.token_to_id(token);
    if (!found) missing.push_back(token);
    return found.value_or(0);
  };
  ClassificationSpecials sp;
  sp.cls = id("[CLS]");
  sp.sep = id("[SEP]");
  sp.pad = id("[PAD]");
  if (!missing.empty())
    throw UserError(what + ": text classification needs a BERT vocabulary, but the model's " + tok.kind() +
                        " tokenizer has no " + config::list_names(missing),
                    "fine-tune a BERT checkpoint (model.family: bert) whose tokenizer/ is a WordPiece vocab.txt or "
                    "a SentencePiece model trained with `ptft tokenizer train --family bert`");
  return sp;
}

EncodedText encode_for_classification(const Tokenizer& tok, const ClassificationSpecials& sp, std::string_view a,
                                      const std::string* b, int64_t max_len) {
  const int64_t specials = b ? 3 : 2;
  PTFT_CHECK(max_len >= specials, "max_len " + std::to_string(max_len) + " for " + std::to_string(specials) +
                                      " special tokens");
  const std::vector<int32_t> ta = tok.encode(a);
  const std::vector<int32_t> tb = b ? tok.encode(*b) : std::vector<int32_t>{};
  // HF "longest_first": one token at a time off the end of the longer text (b on a tie).
  std::size_t na = ta.size(), nb = tb.size();
  const auto budget = static_cast<std::size_t>(max_len - specials);
  EncodedText out;
  out.truncated = na + nb > budget;
  while (na + nb > budget) {
    if (na > nb) --na;
    else --nb;
  }

  out.ids.reserve(na + nb + static_cast<std::size_t>(specials));
  out.ids.push_back(sp.cls);
  out.ids.insert(out.ids.end(), ta.begin(), ta.begin() + static_cast<std::ptrdiff_t>(na));
  out.ids.push_back(sp.sep);
  out.types.assign(out.ids.size(), 0);  // [CLS] a [SEP]
  if (b) {
    out.ids.insert(out.ids.end(), tb.begin(), tb.begin() + static_cast<std::ptrdiff_t>(nb));
    out.ids.push_back(sp.sep);
    out.types.resize(out.ids.size(), 1);  // b [SEP]
  }
  return out;
}

bool is_text_classification_jsonl(const std::string& path) {
  if (!is_sft_jsonl_path(path)) return false;  // the name test: *.jsonl, *.jsonl.gz
  try {
    text::TextFile file(path);
    text::JsonlLines lines(file, kTextClassificationRowHint);
    nlohmann::json first;
    return lines.next(first) && first.is_object() && first.contains("label");
  } catch (const UserError&) {
    return false;  // unreadable or not JSON: not ours to claim (the SFT reader reports it)
  }
}

TextClassificationJsonl::TextClassificationJsonl(const std::string& path, const std::string& split,
                                                 const DataContext& ctx)
    : path_(path), split_(split), ctx_(ctx) {
  const std::string what = "text classification data '" + path + "'";
  if (ctx.block_size < 1)
    throw UserError("'" + path + "' is text classification data (JSONL with 'label'), but this model does not "
                    "read token sequences",
                    "text classification fine-tunes a BERT model (model.family: bert)");
  if (ctx.block_size < 4)
    throw UserError(what + ": the model's context of " + std::to_string(ctx.block_size) +
                        " tokens is too short for [CLS] text [SEP]",
                    "use a model with max_position_embeddings >= 4 (BERT presets have 128 or more)");
  if (!ctx.tokenizer)
    throw UserError(what + " needs the model's tokenizer: fine-tune from a checkpoint that has tokenizer/",
                    "the texts are encoded with the model's own vocabulary; a checkpoint keeps it in tokenizer/ "
                    "when it was pre-trained on `ptft data prepare` shards or imported with its vocab.txt");
  const Tokenizer& tok = *ctx.tokenizer;
  if (ctx.vocab_size > 0 && tok.vocab_size() > ctx.vocab_size)
    throw UserError(what + ": the model's tokenizer has " + std::to_string(tok.vocab_size()) +
                        " tokens, but the model has vocab_size " + std::to_string(ctx.vocab_size),
                    "the checkpoint's tokenizer/ does not belong to its weights: fine-tune from the checkpoint that "
                    "was pre-trained with it");
  specials_ = ClassificationSpecials::of(tok, what);

  // Encode every row; labels become class ids once all of them are known.
  text::TextFile file(path);
  text::JsonlLines lines(file, kTextClassificationRowHint);
  std::vector<std::string> row_labels;
  std::vector<std::size_t> row_lines;
  nlohmann::json j;
  int64_t replaced = 0;
  offsets_.push_back(0);
  while (lines.next(j)) {
    const TextClassificationRow r = parse_text_classification_row(j, lines.where());
    replaced += lines.replaced() > 0;
    const EncodedText e = encode_for_classification(tok, specials_, r.a, r.pair ? &r.b : nullptr, ctx.block_size);
    ids_.insert(ids_.end(), e.ids.begin(), e.ids.end());  // ids < vocab_size: int32 holds them
    types_.insert(types_.end(), e.types.begin(), e.types.end());
    offsets_.push_back(static_cast<int64_t>(ids_.size()));
    truncated_ += e.truncated;
    pairs_ += r.pair;
    row_labels.push_back(r.label);
    row_lines.push_back(lines.line());
  }
  if (row_labels.empty())
    throw UserError(what + " (" + split + ") has no examples: the file is empty or only blank lines",
                    kTextClassificationRowHint);

  class_names_ = ctx.classes.empty() ? sorted_class_names(row_labels) : ctx.classes;
  if (ctx.classes.empty() && split == "train" && class_names_.size() < 2)
    throw UserError(what + " (" + split + "): every example has the label '" + class_names_[0] +
                        "'; a classifier needs at least 2 classes",
                    "add examples of the other classes (a label per row: \"label\": ...)");
  std::unordered_map<std::string, int64_t> class_id;
  for (std::size_t k = 0; k < class_names_.size(); ++k) class_id.emplace(class_names_[k], static_cast<int64_t>(k));
  labels_.reserve(row_labels.size());
  for (std::size_t i = 0; i < row_labels.size(); ++i) {
    const auto it = class_id.find(row_labels[i]);
    if (it == class_id.end()) {
      const std::string near = config::nearest(row_labels[i], class_names_);
      throw UserError(path + ":" + std::to_string(row_lines[i]) + ": label '" + row_labels[i] +
                          "' is not a class of the training data (" + std::to_string(class_names_.size()) +
                          " classes: " + config::list_names(class_names_) + ")",
                      (near.empty() ? "" : "did you mean '" + near + "'? ") +
                          "the validation data must use the training data's labels");
    }
    labels_.push_back(it->second);
  }

  std::string notes;
  if (truncated_ > 0)
    notes = std::to_string(truncated_) + " of " + std::to_string(size()) +
            " examples truncated to the model's context of " + std::to_string(ctx.block_size) + " tokens";
  if (replaced > 0)
    notes += (notes.empty() ? "" : "; ") + std::to_string(replaced) + " lines had invalid UTF-8 (replaced by U+FFFD)";
  if (!notes.empty())  // once per file and context: training and evaluation may open it more than once
    log_warn_once("textcls:" + path + "\n" + std::to_string(ctx.block_size), what + ": " + notes);
  order_ = std::make_unique<EpochShuffle>(size(), splitmix64(ctx.seed ^ splitmix64(fnv1a64("textcls:" + split))));
}

std::string TextClassificationJsonl::describe() const {
  return "text classification JSONL '" + path_ + "' (" + split_ + ": " + std::to_string(size()) + " examples" +
         (pairs_ > 0 ? " (" + std::to_string(pairs_) + " of them text pairs)" : "") + ", " +
         std::to_string(class_names_.size()) + " classes: " + config::list_names(class_names_, 10) + "; " +
         std::to_string(truncated_) + " truncated to " + std::to_string(ctx_.block_size) + " tokens)";
}

std::vector<int64_t> TextClassificationJsonl::class_counts() const {
  std::vector<int64_t> counts(class_names_.size(), 0);
  for (int64_t y : labels_) ++counts[static_cast<std::size_t>(y)];
  return counts;
}

EncodedText TextClassificationJsonl::example(int64_t i) const {
  PTFT_CHECK(i >= 0 && i < size(), "example " + std::to_string(i) + " of " + std::to_string(size()));
  EncodedText e;
  e.ids.assign(ids_.begin() + offsets_[i], ids_.begin() + offsets_[i + 1]);
  e.types.assign(types_.begin() + offsets_[i], types_.begin() + offsets_[i + 1]);
  return e;
}

int64_t TextClassificationJsonl::label(int64_t i) const {
  PTFT_CHECK(i >= 0 && i < size(), "example " + std::to_string(i) + " of " + std::to_string(size()));
  return labels_[static_cast<std::size_t>(i)];
}

TensorMap classification_inputs(const std::vector<EncodedText>& texts, int32_t pad) {
  const auto B = static_cast<int64_t>(texts.size());
  int64_t T = 0;  // the longest example
  for (const auto& e : texts) T = std::max(T, static_cast<int64_t>(e.ids.size()));
  auto input_ids = torch::full({B, T}, static_cast<int64_t>(pad), torch::kLong);  // (B, T)
  auto token_types = torch::zeros({B, T}, torch::kLong);                         // (B, T)
  auto mask = torch::zeros({B, T}, torch::kLong);                                // (B, T)
  int64_t* in = input_ids.data_ptr<int64_t>();
  int64_t* tt = token_types.data_ptr<int64_t>();
  int64_t* am = mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = texts[static_cast<std::size_t>(b)];
    std::copy(e.ids.begin(), e.ids.end(), in + b * T);
    std::copy(e.types.begin(), e.types.end(), tt + b * T);
    std::fill(am + b * T, am + b * T + static_cast<int64_t>(e.ids.size()), 1);
  }
  return {{"input_ids", input_ids}, {"token_type_ids", token_types}, {"attention_mask", mask}};
}

Batch TextClassificationJsonl::make_batch(const std::vector<int64_t>& examples) const {
  std::vector<EncodedText> texts;
  texts.reserve(examples.size());
  auto y = torch::empty({static_cast<int64_t>(examples.size())}, torch::kLong);  // (B)
  int64_t* yy = y.data_ptr<int64_t>();
  for (std::size_t b = 0; b < examples.size(); ++b) {
    texts.push_back(example(examples[b]));
    yy[b] = labels_[static_cast<std::size_t>(examples[b])];
  }
  TensorMap data = classification_inputs(texts, specials_.pad);
  data["y"] = y;
  return Batch{std::move(data), static_cast<int64_t>(examples.size())};
}

Batch TextClassificationJsonl::train_batch(const BatchAddress& at) {
  return make_batch(order_->examples(stream_position(at, ctx_), at.micro_batch));
}

int64_t TextClassificationJsonl::eval_batches(int64_t batch_size) const { return eval_batch_count(size(), batch_size); }

Batch TextClassificationJsonl::eval_batch(int64_t index, int64_t batch_size) {
  return make_batch(eval_batch_examples(size(), index, batch_size));
}

}  // namespace ptft
