#include "ptft/data/token_windows.h"
#include "ptft/core/json_depth.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/hash.h"
#include "ptft/core/log.h"
#include "ptft/data/sampling.h"

namespace ptft {
namespace {

const char* const kRemakeHint = "re-create the directory with `ptft data prepare`";

// A value of meta.json at `path` ("tokens.train"), or a UserError naming the file and key.
const nlohmann::json& need(const nlohmann::json& meta, const std::string& file, const std::string& path) {
  const nlohmann::json* j = &meta;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!j->is_object() || !j->contains(part))
      throw UserError("'" + file + "' has no '" + path + "'", kRemakeHint);
    j = &(*j)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *j;
}

}  // namespace

bool is_token_shard_dir(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_regular_file(dir + "/meta.json", ec);
}

TokenWindows::TokenWindows(const std::string& dir, const std::string& split, const DataContext& ctx,
                           int64_t block_size, const std::string& expected_tokenizer_hash)
    : dir_(dir), split_(split), ctx_(ctx), block_(block_size) {
  if (split != "train" && split != "val")
    throw InternalError("TokenWindows: split '" + split + "' (expected train or val)");
  if (block_size < 1)
    throw InternalError("TokenWindows: block size " + std::to_string(block_size) + " for '" + dir + "'");
  const std::string meta_path = dir + "/meta.json";
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(read_json_text(meta_path, "shard metadata"));
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + meta_path + "' is not valid JSON: " + e.what(), kRemakeHint);
  }

  try {
    tokenizer_hash_ = need(meta, meta_path, "tokenizer.hash").get<std::string>();
    tokenizer_kind_ = need(meta, meta_path, "tokenizer.kind").get<std::string>();
    vocab_size_ = need(meta, meta_path, "tokenizer.vocab_size").get<int64_t>();
    if (!expected_tokenizer_hash.empty() && expected_tokenizer_hash != tokenizer_hash_)
      throw UserError("token shards in '" + dir + "' were made with tokenizer " + tokenizer_hash_ +
                          ", but the model uses tokenizer " + expected_tokenizer_hash,
                      "the ids would mean different words: re-run `ptft data prepare --tokenizer <the model's "
                      "tokenizer/>` for this model, or point the data at shards made with its tokenizer");
    if (ctx.vocab_size > 0 && vocab_size_ > ctx.vocab_size)
      throw UserError("token shards in '" + dir + "' come from a tokenizer of " + std::to_string(vocab_size_) +
                          " tokens, but the model has vocab_size " + std::to_string(ctx.vocab_size),
                      "set model.vocab_size to " + std::to_string(vocab_size_) +
                          " (or more), or prepare the data with the model's tokenizer");
    static std::mutex warned_mu;
    static std::set<std::string> warned;  // one warning per shard directory (train and val share it)
    std::lock_guard<std::mutex> lock(warned_mu);
    if (expected_tokenizer_hash.empty() && warned.insert(dir).second)
      log_warn("token shards in '" + dir + "' were made with tokenizer " + tokenizer_hash_ + " (" + tokenizer_kind_ +
               "); the model's tokenizer is not known here, so the match is not checked");

    const std::string dtype = need(meta, meta_path, "dtype").get<std::string>();
    const int64_t expected_total = need(meta, meta_path, "tokens." + split).get<int64_t>();
    const auto& list = need(meta, meta_path, "shards." + split);
    if (!list.is_array()) throw UserError("'" + meta_path + "': 'shards." + split + "' is not a list", kRemakeHint);
    offsets_.push_back(0);
    for (const auto& entry : list) {
      const std::string file = entry.at("file").get<std::string>();
      if (file.find('/') != std::string::npos || file.rfind("..", 0) == 0)
        throw UserError("'" + meta_path + "' names shard '" + file + "' outside the directory", kRemakeHint);
      auto r = shard::Reader::open(dir + "/" + file);
      if (shard::dtype_name(r->dtype()) != dtype)
        throw UserError("shard '" + r->path() + "' holds " + shard::dtype_name(r->dtype()) + " tokens, but '" +
                            meta_path + "' says " + dtype,
                        kRemakeHint);
      const auto listed = entry.at("tokens").get<int64_t>();
      if (static_cast<int64_t>(r->count()) != listed)
        throw UserError("shard '" + r->path() + "' holds " + std::to_string(r->count()) + " tokens, but '" + meta_path +
                            "' lists " + std::to_string(listed),
                        "the directory mixes files of different runs; " + std::string(kRemakeHint));
      offsets_.push_back(offsets_.back() + listed);
      shards_.push_back(std::move(r));
    }
    total_ = offsets_.back();
    if (total_ != expected_total)
      throw UserError("the " + split + " shards in '" + dir + "' hold " + std::to_string(total_) + " tokens, but '" +
                          meta_path + "' says " + std::to_string(expected_total),
                      kRemakeHint);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + meta_path + "' is malformed: " + e.what(), kRemakeHint);
  }

  if (total_ < block_ + 1)
    throw UserError("the " + split + " split of '" + dir + "' has " + std::to_string(total_) +
                        " tokens, fewer than one window of block size " + std::to_string(block_) + " + 1 = " +
                        std::to_string(block_ + 1) + " tokens",
                    split == "val" ? "give data prepare more text or a larger --val-fraction, or use a smaller block size"
                                   : "give data prepare more text, or use a smaller block size (model context length)");
  stream_key_ = splitmix64(ctx_.seed ^ splitmix64(fnv1a64(split)));
}

std::string TokenWindows::describe() const {
  return "token shards '" + dir_ + "' (" + split_ + ": " + std::to_string(total_) + " tokens in " +
         std::to_string(shards_.size()) + " shard(s), windows of " + std::to_string(block_) + ", tokenizer " +
         tokenizer_kind_ + " " + tokenizer_hash_ + ")";
}

int64_t TokenWindows::size() const { return (total_ - 1) / block_; }

int64_t TokenWindows::train_window_start(int64_t example) const {
  // Starts in [0, total - T - 1]: every window of T+1 tokens is possible.
  const auto range = static_cast<uint64_t>(total_ - block_);
  const uint64_t h = splitmix64(stream_key_ ^ splitmix64(static_cast<uint64_t>(example)));
  return static_cast<int64_t>((static_cast<__uint128_t>(h) * range) >> 64);  // uniform in [0, range)
}

void TokenWindows::read(int64_t begin, int64_t n, int64_t* out) const {
  PTFT_CHECK(begin >= 0 && n >= 0 && begin + n <= total_, "window out of range");
  // The shard holding `begin`: the last offset <= begin.
  auto it = std::upper_bound(offsets_.begin(), offsets_.end(), begin);
  std::size_t s = static_cast<std::size_t>(it - offsets_.begin()) - 1;
  while (n > 0) {
    const int64_t local = begin - offsets_[s];
    const int64_t take = std::min<int64_t>(n, offsets_[s + 1] - begin);
    shards_[s]->read(static_cast<uint64_t>(local), static_cast<std::size_t>(take), out);
    out += take;
    begin += take;
    n -= take;
    ++s;
  }
}

Batch TokenWindows::make_batch(const std::vector<int64_t>& starts) const {
  const auto B = static_cast<int64_t>(starts.size());
  auto windows = torch::empty({B, block_ + 1}, torch::kLong);  // (B, T+1)
  int64_t* p = windows.data_ptr<int64_t>();
  for (int64_t i = 0; i < B; ++i) read(starts[static_cast<std::size_t>(i)], block_ + 1, p + i * (block_ + 1));
  auto inputs = windows.slice(1, 0, block_).contiguous();       // (B, T)
  auto targets = windows.slice(1, 1, block_ + 1).contiguous();  // (B, T)
  return Batch{{{"input_ids", inputs}, {"targets", targets}}, B * block_};
}

Batch TokenWindows::train_batch(const BatchAddress& at) {
  const int64_t first = stream_position(at, ctx_);  // the same layout as every DataSource
  std::vector<int64_t> starts(static_cast<std::size_t>(at.micro_batch));
  for (int64_t j = 0; j < at.micro_batch; ++j) starts[static_cast<std::size_t>(j)] = train_window_start(first + j);
  return make_batch(starts);
}

int64_t TokenWindows::eval_batches(int64_t batch_size) const { return eval_batch_count(size(), batch_size); }

Batch TokenWindows::eval_batch(int64_t index, int64_t batch_size) {
  const auto [begin, end] = eval_batch_range(size(), index, batch_size);
  std::vector<int64_t> starts;
  for (int64_t w = begin; w < end; ++w) starts.push_back(w * block_);
  return make_batch(starts);
}

std::unique_ptr<TokenWindows> open_token_windows(const std::string& dir, const std::string& split,
                                                 const DataContext& ctx, int64_t block_size,
                                                 const std::string& expected_tokenizer_hash) {
  return std::make_unique<TokenWindows>(dir, split, ctx, block_size, expected_tokenizer_hash);
}

}  // namespace ptft
