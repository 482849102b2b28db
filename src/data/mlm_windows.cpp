#include "ptft/data/mlm_windows.h"

#include <algorithm>

#include "ptft/core/error.h"
#include "ptft/core/hash.h"
#include "ptft/data/sampling.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {
namespace {

constexpr int64_t kIgnore = -100;

double unit(uint64_t bits) { return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)

}  // namespace

MlmWindows::MlmWindows(const std::string& dir, const std::string& split, const DataContext& ctx, int64_t seq_len)
    : ctx_(ctx), seq_len_(seq_len), p_(ctx.mlm_probability) {
  if (seq_len < 8)
    throw UserError("masked-LM sequences of " + std::to_string(seq_len) + " tokens are too short",
                    "use a model with max_position_embeddings >= 8");
  if (!(p_ > 0 && p_ < 1))
    throw UserError("data.mlm_probability must be in (0, 1), got " + std::to_string(p_), "BERT uses 0.15");
  if (!ctx.tokenizer)
    throw UserError("masked-LM pre-training on '" + dir + "' needs the shards' tokenizer (its [CLS], [SEP] and [MASK])",
                    "prepare the shards with `ptft data prepare --tokenizer DIR`, which records it");
  const Tokenizer& tok = *ctx.tokenizer;
  auto need = [&](const char* name) -> int64_t {
    auto id = tok.token_to_id(name);
    if (!id)
      throw UserError("masked-LM pre-training needs the token " + std::string(name) + ", which the " + tok.kind() +
                          " tokenizer of '" + dir + "' does not have",
                      "use a BERT vocabulary: a WordPiece vocab.txt, or `ptft tokenizer train --family bert`");
    return *id;
  };
  specials_.cls = need("[CLS]");
  specials_.sep = need("[SEP]");
  specials_.mask = need("[MASK]");
  if (auto pad = tok.token_to_id("[PAD]")) specials_.pad = *pad;
  std::vector<int32_t> special_ids = {static_cast<int32_t>(specials_.cls), static_cast<int32_t>(specials_.sep),
                                      static_cast<int32_t>(specials_.mask), tok.eot_id()};
  for (const auto& s : tok.special_tokens())
    if (auto id = tok.token_to_id(s)) special_ids.push_back(*id);
  if (specials_.pad >= 0) special_ids.push_back(static_cast<int32_t>(specials_.pad));
  std::sort(special_ids.begin(), special_ids.end());
  special_ids_.assign(special_ids.begin(), special_ids.end());
  for (int32_t id = 0; id < tok.vocab_size(); ++id)
    if (!std::binary_search(special_ids.begin(), special_ids.end(), id)) random_pool_.push_back(id);
  PTFT_CHECK(!random_pool_.empty(), "the tokenizer has only special tokens");
  // Windows of T - 2 tokens: TokenWindows reads block + 1 tokens per window.
  windows_ = open_token_windows(dir, split, ctx, seq_len - 3, tok.content_hash());
  train_key_ = splitmix64(ctx.seed ^ splitmix64(fnv1a64("mlm-train:" + split)));
  eval_key_ = splitmix64(ctx.seed ^ splitmix64(fnv1a64("mlm-eval:" + split)));
}

std::string MlmWindows::describe() const {
  // The shards' own description, without its window size (TokenWindows reads T - 3 + 1 tokens).
  std::string shards = windows_->describe();
  const auto w = shards.find(", windows of ");
  if (w != std::string::npos) shards.erase(w, shards.find(',', w + 2) - w);
  return "masked LM (" + std::to_string(static_cast<int>(p_ * 100 + 0.5)) + "% of tokens, [CLS] + " +
         std::to_string(seq_len_ - 2) + " + [SEP]) over " + shards;
}

Batch MlmWindows::mask(const torch::Tensor& content, int64_t first, uint64_t key) const {
  const int64_t B = content.size(0), L = content.size(1), T = L + 2;
  PTFT_CHECK(T == seq_len_, "mlm content of the wrong length");
  auto ids = torch::empty({B, T}, torch::kLong);                // (B,T)
  auto targets = torch::full({B, T}, kIgnore, torch::kLong);    // (B,T)
  const auto src = content.contiguous();
  const int64_t* c = src.data_ptr<int64_t>();
  int64_t* x = ids.data_ptr<int64_t>();
  int64_t* y = targets.data_ptr<int64_t>();
  const auto pool = static_cast<uint64_t>(random_pool_.size());
  int64_t selected = 0;
  auto is_special = [&](int64_t t) { return std::binary_search(special_ids_.begin(), special_ids_.end(), t); };
  for (int64_t b = 0; b < B; ++b) {
    int64_t* xb = x + b * T;
    int64_t* yb = y + b * T;
    xb[0] = specials_.cls;
    std::copy(c + b * L, c + (b + 1) * L, xb + 1);
    xb[T - 1] = specials_.sep;
    const uint64_t seq = splitmix64(key ^ splitmix64(static_cast<uint64_t>(first + b)));
    int64_t here = 0;
    for (int64_t t = 1; t < T - 1; ++t) {
      if (is_special(xb[t])) continue;
      const uint64_t h = splitmix64(seq + static_cast<uint64_t>(t));
      if (unit(h) >= p_) continue;
      yb[t] = xb[t];
      ++here;
      const double action = unit(splitmix64(h ^ 0x5bd1e995ULL));
      if (action < 0.8) xb[t] = specials_.mask;
      else if (action < 0.9) xb[t] = random_pool_[static_cast<size_t>((static_cast<__uint128_t>(splitmix64(h + 1)) * pool) >> 64)];
    }
    if (here == 0) {  // none drawn: select one non-special position (always [MASK])
      std::vector<int64_t> cand;
      for (int64_t t = 1; t < T - 1; ++t)
        if (!is_special(xb[t])) cand.push_back(t);
      if (!cand.empty()) {
        const int64_t t = cand[static_cast<size_t>((static_cast<__uint128_t>(splitmix64(seq ^ 0x9e37ULL)) * cand.size()) >> 64)];
        yb[t] = xb[t];
        xb[t] = specials_.mask;
        here = 1;
      }
    }
    selected += here;
  }
  return Batch{{{"input_ids", ids}, {"targets", targets}}, selected};
}

namespace {
// The T - 2 content tokens of each window: inputs plus the last target.
torch::Tensor content_of(const Batch& w) {
  const auto& in = w.data.at("input_ids");   // (B, T-3)
  const auto& tg = w.data.at("targets");     // (B, T-3)
  return torch::cat({in, tg.slice(1, tg.size(1) - 1)}, 1);  // (B, T-2)
}
}  // namespace

Batch MlmWindows::train_batch(const BatchAddress& at) {
  return mask(content_of(windows_->train_batch(at)), stream_position(at, ctx_), train_key_);
}

Batch MlmWindows::eval_batch(int64_t index, int64_t batch_size) {
  return mask(content_of(windows_->eval_batch(index, batch_size)), index * batch_size, eval_key_);
}

std::unique_ptr<MlmWindows> open_mlm_windows(const std::string& dir, const std::string& split, const DataContext& ctx,
                                             int64_t seq_len) {
  return std::make_unique<MlmWindows>(dir, split, ctx, seq_len);
}

}  // namespace ptft
