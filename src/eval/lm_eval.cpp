#include "ptft/eval/lm_eval.h"

#include <algorithm>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/data/token_windows.h"
#include "ptft/train/causal_lm_task.h"
#include "ptft/data/mlm_windows.h"
#include "ptft/train/task.h"

namespace ptft {
namespace {

// What binary data `bytes` starts with ("gzip-compressed data", "IDX data", "a PNG image", ...),
// or "" when it looks like text (no NUL byte in the first 8 KB).
std::string binary_kind(const std::string& bytes) {
  auto starts = [&](const char* magic, size_t n) { return bytes.size() >= n && bytes.compare(0, n, magic, n) == 0; };
  if (starts("\x1f\x8b", 2)) return "gzip-compressed data";
  if (starts("\x89PNG", 4)) return "a PNG image";
  if (starts("\xff\xd8\xff", 3)) return "a JPEG image";
  if (starts("\0\0\x08", 3) || starts("\0\0\x0d", 3)) return "IDX data (MNIST-style arrays)";
  const size_t nul = bytes.find('\0');
  if (nul != std::string::npos && nul < 8192) return "binary data (a NUL byte at offset " + std::to_string(nul) + ")";
  return "";
}

// Evaluation mode and no autograd for the scope; the model's mode is restored afterwards.
class EvalScope {
 public:
  explicit EvalScope(ModelImpl& m) : model_(m), was_training_(m.is_training()) { model_.eval(); }
  ~EvalScope() { model_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  ModelImpl& model_;
  bool was_training_;
  torch::NoGradGuard no_grad_;
};

// The language-model task of `model`'s family: "causal_lm" (GPT) or "masked_lm" (BERT).
std::string lm_task(const ModelImpl& model, const std::string& what) {
  const std::string task = model.context_length() > 0 ? find_model_family(model.family(), what).default_task : "";
  if (task != "causal_lm" && task != "masked_lm")
    throw UserError("eval measures token prediction, but " + what + " holds a " + model.family() + " model",
                    "pass a checkpoint of a GPT (causal LM) or BERT (masked LM) run");
  return task;
}

// Windows of `len` + 1 tokens of `ids` starting at `starts`: inputs and targets (B, len).
Batch window_batch(const std::vector<int32_t>& ids, const std::vector<int64_t>& starts, int64_t len) {
  const auto B = static_cast<int64_t>(starts.size());
  auto windows = torch::empty({B, len + 1}, torch::kLong);  // (B, len+1)
  auto* p = windows.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(ids.begin() + starts[static_cast<std::size_t>(b)], len + 1, p + b * (len + 1));
  return Batch{{{"input_ids", windows.slice(1, 0, len).contiguous()}, {"targets", windows.slice(1, 1).contiguous()}},
               B * len};
}

}  // namespace

void LmEvalOptions::validate() const {
  if (data.empty()) throw UserError("no evaluation data given", "pass --data FILE or --data SHARD_DIR");
  if (split != "train" && split != "val")
    throw UserError("--split '" + split + "' is not a split of token shards", "use train or val");
  if (batch_size < 1) throw UserError("--batch-size must be >= 1, got " + std::to_string(batch_size));
  if (max_tokens < 0) throw UserError("--max-tokens must be >= 0, got " + std::to_string(max_tokens));
}

nlohmann::json evaluate_lm_tokens(ModelImpl& model, const std::vector<int32_t>& ids, int64_t batch_size,
                                  const std::string& source) {
  const auto N = static_cast<int64_t>(ids.size());
  if (N < 2)
    throw UserError(source + " is " + std::to_string(N) + " token(s): too short to evaluate",
                    "next-token prediction needs at least 2 tokens; give more text");
  const int64_t T = model.context_length(), V = model.vocab_size();
  for (int32_t id : ids)
    if (id < 0 || id >= V)
      throw UserError(source + " holds token id " + std::to_string(id) + ", outside the model's vocabulary of " +
                          std::to_string(V),
                      "encode the text with the model's own tokenizer");
  EvalScope scope(model);
  auto acc = CausalLmTask().new_eval();
  // Full windows of T targets, batched; then the shorter last one, alone.
  const int64_t full = (N - 1) / T, rest = (N - 1) % T;
  for (int64_t w = 0; w < full; w += batch_size) {
    std::vector<int64_t> starts;
    for (int64_t i = w; i < std::min(full, w + batch_size); ++i) starts.push_back(i * T);
    acc->add(model, window_batch(ids, starts, T));
  }
  if (rest > 0) acc->add(model, window_batch(ids, {full * T}, rest));
  return acc->result();
}

nlohmann::json evaluate_lm(ModelImpl& model, const TokenizerPtr& tokenizer, const LmEvalOptions& opt) {
  opt.validate();
  const std::string task = lm_task(model, "the checkpoint");
  if (is_token_shard_dir(opt.data)) {
    DataContext ctx;
    ctx.block_size = model.context_length();
    ctx.vocab_size = model.vocab_size();
    ctx.tokenizer = tokenizer;
    // Masked LM: BERT's masking with the fixed evaluation masks (ptft/data/mlm_windows.h).
    std::unique_ptr<DataSource> src;
    if (task == "masked_lm") {
      ctx.mlm_probability = 0.15;
      src = open_mlm_windows(opt.data, opt.split, ctx, ctx.block_size);
    } else {
      src = open_token_windows(opt.data, opt.split, ctx, ctx.block_size, tokenizer ? tokenizer->content_hash() : "");
    }
    EvalScope scope(model);
    auto acc = create_task(task, "eval")->new_eval();
    int64_t n = src->eval_batches(opt.batch_size);
    if (opt.max_tokens > 0)  // the same first windows for every model: comparable numbers
      n = std::min(n, std::max<int64_t>(1, opt.max_tokens / (opt.batch_size * ctx.block_size)));
    for (int64_t i = 0; i < n; ++i) acc->add(model, src->eval_batch(i, opt.batch_size));
    return acc->result();
  }
  if (task == "masked_lm")
    throw UserError("masked-LM evaluation reads token shards, and '" + opt.data + "' is not a shard directory",
                    "make shards with `ptft data prepare --tokenizer CKPT/tokenizer --input FILE --out DIR`");
  std::error_code ec;
  if (std::filesystem::is_directory(opt.data, ec))
    throw UserError("'" + opt.data + "' is a directory but not a token shard directory (no meta.json)",
                    "pass a text file, or a directory made by `ptft data prepare`");
  if (!tokenizer)
    throw UserError("evaluating the text file '" + opt.data + "' needs the model's tokenizer",
                    "copy the tokenizer the model was trained with into the checkpoint's tokenizer/");
  const std::string text = fs::read_file(opt.data, "evaluation text");
  if (const std::string kind = binary_kind(text); !kind.empty())
    throw UserError("'" + opt.data + "' is not a text file: it holds " + kind,
                    "a language model is evaluated on a UTF-8 text file or on token shards (ptft data prepare); "
                    "image data (IDX, PNG, JPEG) is evaluated with an image classifier");
  std::vector<int32_t> ids;
  try {
    ids = tokenizer->document_prefix();  // as data prepare starts each document
    const std::vector<int32_t> body = tokenizer->encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
  } catch (const UserError& e) {
    throw e.with_context("encoding '" + opt.data + "'");
  }
  return evaluate_lm_tokens(model, ids, opt.batch_size, "'" + opt.data + "'");
}

}  // namespace ptft
