#include "ptft/data/sft_jsonl.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ptft/core/error.h"
#include "ptft/core/hash.h"
#include "ptft/core/log.h"
#include "ptft/data/sft_row.h"
#include "ptft/data/text_inputs.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {
namespace {

constexpr int64_t kIgnore = -100;  // CausalLmTask::kIgnore: a target the loss skips
}  // namespace

bool is_sft_jsonl_path(const std::string& path) {
  auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".jsonl") || ends_with(".jsonl.gz");
}

SftJsonl::SftJsonl(const std::string& path, const std::string& split, const DataContext& ctx)
    : path_(path), split_(split), ctx_(ctx) {
  if (ctx.block_size < 1)
    throw UserError("'" + path + "' is SFT chat data (JSONL), but this model does not read token sequences",
                    "SFT data trains language models (model.family: gpt)");
  if (!ctx.tokenizer)
    throw UserError("SFT data needs the model's tokenizer: fine-tune from a checkpoint that has tokenizer/ "
                    "(pretrain on `ptft data prepare` shards)",
                    "'" + path + "' is chat data, encoded with the model's own tokenizer; a checkpoint keeps it in "
                    "tokenizer/ when it was pre-trained on token shards");
  const Tokenizer& tok = *ctx.tokenizer;
  if (ctx.vocab_size > 0 && tok.vocab_size() > ctx.vocab_size)
    throw UserError("SFT data '" + path + "': the model's tokenizer has " + std::to_string(tok.vocab_size()) +
                        " tokens, but the model has vocab_size " + std::to_string(ctx.vocab_size),
                    "the checkpoint's tokenizer/ does not belong to its weights: fine-tune from the checkpoint that "
                    "was pre-trained with it");
  const ChatTemplate tmpl = ctx.chat_template ? *ctx.chat_template : ChatTemplate::builtin("ptft-chat");
  template_name_ = tmpl.name();
  pad_id_ = tok.eot_id();
  const int64_t max_tokens = ctx.block_size + 1;  // inputs of T and targets of T

  text::TextFile file(path);
  text::JsonlLines lines(file, kSftRowHint);
  nlohmann::json j;
  int64_t examples = 0, replaced = 0;
  offsets_.push_back(0);
  while (lines.next(j)) {
    ++stats_.rows;
    replaced += lines.replaced() > 0;
    const std::string where = lines.where();
    const std::vector<ChatPiece> pieces = tmpl.render_pieces(parse_sft_row(j, where));  // roles checked
    ++examples;

    // Tokens of the pieces, each encoded alone so that a token is wholly prompt or answer.
    const auto begin = static_cast<int64_t>(ids_.size());
    for (const auto& p : pieces) {
      const auto ids = tok.encode(p.text);
      ids_.insert(ids_.end(), ids.begin(), ids.end());
      trained_.insert(trained_.end(), ids.size(), p.trained ? 1 : 0);
    }
    if (static_cast<int64_t>(ids_.size()) - begin > max_tokens) {
      ++stats_.truncated;
      ids_.resize(static_cast<std::size_t>(begin + max_tokens));
      trained_.resize(ids_.size());
    }
    // Targets are tokens 1.. of the example: the first token is never predicted.
    const auto learnt = static_cast<int64_t>(ids_.size()) - begin < 2
                            ? 0
                            : std::count(trained_.begin() + begin + 1, trained_.end(), 1);
    if (learnt == 0) {
      ++stats_.dropped;
      ids_.resize(static_cast<std::size_t>(begin));
      trained_.resize(ids_.size());
      continue;
    }
    stats_.trained += learnt;
    offsets_.push_back(static_cast<int64_t>(ids_.size()));
  }
  stats_.tokens = static_cast<int64_t>(ids_.size());

  if (examples == 0)
    throw UserError("SFT data '" + path + "' (" + split + ") has no examples: the file is empty or only blank lines",
                    kSftRowHint);
  const std::string T = std::to_string(ctx.block_size);
  if (size() == 0)
    throw UserError("SFT data '" + path + "' (" + split + "): all " + std::to_string(examples) +
                        " examples were dropped: none has a response token within the model's context of " + T +
                        " tokens",
                    "shorten the prompts (the answer must start within the first " + T +
                        " tokens), or fine-tune a model with a longer context");
  if (stats_.truncated > 0 || stats_.dropped > 0 || replaced > 0) {
    std::string msg = "SFT data '" + path + "': " + std::to_string(stats_.truncated) + " of " +
                      std::to_string(examples) + " examples truncated to " + T + " tokens; " +
                      std::to_string(stats_.dropped) + " dropped (no response tokens left)";
    if (replaced > 0) msg += "; " + std::to_string(replaced) + " lines had invalid UTF-8 (replaced by U+FFFD)";
    log_warn_once("sft:" + path + "\n" + T, msg);  // train and eval may open the same file more than once
  }
  order_ = std::make_unique<EpochShuffle>(size(), splitmix64(ctx.seed ^ splitmix64(fnv1a64("sft:" + split))));
}

std::string SftJsonl::describe() const {
  return "SFT JSONL '" + path_ + "' (" + split_ + ": " + std::to_string(size()) + " examples, " +
         std::to_string(stats_.tokens) + " tokens, " + std::to_string(stats_.trained) + " trained; " +
         std::to_string(stats_.truncated) + " of " + std::to_string(size() + stats_.dropped) + " truncated to " +
         std::to_string(ctx_.block_size) + " tokens, " + std::to_string(stats_.dropped) +
         " dropped (no response tokens left); template " + template_name_ + ")";
}

std::vector<int32_t> SftJsonl::example_ids(int64_t i) const {
  PTFT_CHECK(i >= 0 && i < size(), "example " + std::to_string(i) + " of " + std::to_string(size()));
  return {ids_.begin() + offsets_[i], ids_.begin() + offsets_[i + 1]};
}

std::vector<bool> SftJsonl::example_trained(int64_t i) const {
  PTFT_CHECK(i >= 0 && i < size(), "example " + std::to_string(i) + " of " + std::to_string(size()));
  return {trained_.begin() + offsets_[i], trained_.begin() + offsets_[i + 1]};
}

Batch SftJsonl::make_batch(const std::vector<int64_t>& examples) const {
  const auto B = static_cast<int64_t>(examples.size());
  int64_t T = 0;  // the longest example's inputs
  for (int64_t e : examples) T = std::max(T, offsets_[e + 1] - offsets_[e] - 1);
  auto inputs = torch::full({B, T}, static_cast<int64_t>(pad_id_), torch::kLong);  // (B, T)
  auto targets = torch::full({B, T}, kIgnore, torch::kLong);                      // (B, T)
  int64_t* in = inputs.data_ptr<int64_t>();
  int64_t* tg = targets.data_ptr<int64_t>();
  int64_t counted = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t begin = offsets_[examples[b]], n = offsets_[examples[b] + 1] - begin - 1;
    for (int64_t t = 0; t < n; ++t) {
      in[b * T + t] = ids_[begin + t];
      if (trained_[begin + t + 1]) {
        tg[b * T + t] = ids_[begin + t + 1];
        ++counted;
      }
    }
  }
  return Batch{{{"input_ids", inputs}, {"targets", targets}}, counted};
}

Batch SftJsonl::train_batch(const BatchAddress& at) {
  return make_batch(order_->examples(stream_position(at, ctx_), at.micro_batch));
}

int64_t SftJsonl::eval_batches(int64_t batch_size) const { return eval_batch_count(size(), batch_size); }

Batch SftJsonl::eval_batch(int64_t index, int64_t batch_size) {
  return make_batch(eval_batch_examples(size(), index, batch_size));
}

std::unique_ptr<SftJsonl> open_sft_jsonl(const std::string& path, const std::string& split, const DataContext& ctx) {
  return std::make_unique<SftJsonl>(path, split, ctx);
}

}  // namespace ptft
