#include "ptft/data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "ptft/core/error.h"
#include "ptft/core/hash.h"
#include "ptft/data/sampling.h"

namespace ptft {
namespace {

// "spirals?classes=3&n=100" -> name + params
std::pair<std::string, std::map<std::string, std::string>> parse_spec(const std::string& spec) {
  auto q = spec.find('?');
  std::map<std::string, std::string> params;
  std::string name = spec.substr(0, q);
  if (q != std::string::npos) {
    std::stringstream ss(spec.substr(q + 1));
    std::string kv;
    while (std::getline(ss, kv, '&')) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) params[kv] = "";
      else params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  return {name, params};
}

class Spirals : public DataSource {
 public:
  Spirals(int64_t classes, int64_t n, double noise, const std::string& split, const DataContext& ctx)
      : classes_(classes), n_(n), noise_(noise), ctx_(ctx), order_(n, ctx.seed * 7919ULL + 17) {
    // Distinct, fixed streams per split: val never overlaps train.
    uint64_t split_salt = split == "train" ? 1 : split == "val" ? 2 : 3;
    auto gen = at::detail::createCPUGenerator(ctx.seed * 1000003ULL + split_salt);
    auto label = torch::randint(classes_, {n_}, gen, torch::kLong);              // (N)
    auto r = torch::rand({n_}, gen, torch::kFloat);                              // (N) radius in [0,1)
    auto theta = r * 4.0 + label.to(torch::kFloat) * (2.0 * M_PI / classes_);   // (N)
    auto x = torch::stack({r * torch::cos(theta), r * torch::sin(theta)}, 1);    // (N, 2)
    x = x + noise_ * 0.1 * torch::randn({n_, 2}, gen, torch::kFloat);
    x_ = x.contiguous();
    y_ = label;
  }
  std::string describe() const override {
    return "synthetic spirals (" + std::to_string(n_) + " points, " + std::to_string(classes_) + " classes)";
  }
  int64_t size() const override { return n_; }

  Batch train_batch(const BatchAddress& at) override {
    // Position in the endless example stream (each epoch a fresh permutation).
    const int64_t first = stream_position(at, ctx_);
    std::vector<int64_t> idx(at.micro_batch);
    for (int64_t j = 0; j < at.micro_batch; ++j) idx[j] = order_.example(first + j);
    auto index = torch::tensor(idx, torch::kLong);
    return Batch{{{"x", x_.index_select(0, index)}, {"y", y_.index_select(0, index)}}, at.micro_batch};
  }
  int64_t eval_batches(int64_t batch_size) const override { return eval_batch_count(n_, batch_size); }
  Batch eval_batch(int64_t index, int64_t batch_size) override {
    const auto [begin, end] = eval_batch_range(n_, index, batch_size);
    return Batch{{{"x", x_.slice(0, begin, end)}, {"y", y_.slice(0, begin, end)}}, end - begin};
  }

 private:
  int64_t classes_, n_;
  double noise_;
  DataContext ctx_;
  EpochShuffle order_;
  torch::Tensor x_, y_;
};

// Uniform random token windows: token j of window i of a split is a hash of (seed, split, i, j)
// alone, so any batch can be rebuilt from its address.
class TokenStream : public DataSource {
 public:
  TokenStream(int64_t vocab, int64_t n, int64_t block, const std::string& split, const DataContext& ctx)
      : vocab_(vocab), n_(n), block_(block), ctx_(ctx),
        key_(splitmix64(ctx.seed ^ splitmix64(fnv1a64("synthetic:tokens/" + split)))) {}
  std::string describe() const override {
    return "synthetic tokens (uniform over " + std::to_string(vocab_) + " ids, windows of " + std::to_string(block_) +
           ", " + std::to_string(n_) + " per pass)";
  }
  int64_t size() const override { return n_; }

  // Training example e is window e: the stream never repeats.
  Batch train_batch(const BatchAddress& at) override { return make_batch(stream_position(at, ctx_), at.micro_batch); }
  int64_t eval_batches(int64_t batch_size) const override { return eval_batch_count(n_, batch_size); }
  Batch eval_batch(int64_t index, int64_t batch_size) override {
    const auto [begin, end] = eval_batch_range(n_, index, batch_size);
    return make_batch(begin, end - begin);
  }

 private:
  Batch make_batch(int64_t first, int64_t count) const {
    auto windows = torch::empty({count, block_ + 1}, torch::kLong);  // (B, T+1)
    int64_t* out = windows.data_ptr<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t window = splitmix64(key_ ^ splitmix64(static_cast<uint64_t>(first + i)));
      for (int64_t j = 0; j <= block_; ++j) {
        const uint64_t h = splitmix64(window + static_cast<uint64_t>(j));
        *out++ = static_cast<int64_t>((static_cast<__uint128_t>(h) * static_cast<uint64_t>(vocab_)) >> 64);  // [0, V)
      }
    }
    auto inputs = windows.slice(1, 0, block_).contiguous();       // (B, T)
    auto targets = windows.slice(1, 1, block_ + 1).contiguous();  // (B, T)
    return Batch{{{"input_ids", inputs}, {"targets", targets}}, count * block_};
  }

  int64_t vocab_, n_, block_;
  DataContext ctx_;
  uint64_t key_;
};

}  // namespace

std::unique_ptr<DataSource> make_synthetic(const std::string& spec, const std::string& split,
                                           const DataContext& ctx, const std::string& key) {
  auto [name, params] = parse_spec(spec);
  auto get = [&, &params = params](const std::string& k, double dflt) {
    auto it = params.find(k);
    if (it == params.end()) return dflt;
    try {
      size_t used = 0;
      double v = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing");
      return v;
    } catch (const std::exception&) {
      throw UserError(key + ": 'synthetic:" + spec + "': parameter '" + k + "' must be a number, got '" +
                      it->second + "'");
    }
  };
  auto only = [&, &params = params](std::initializer_list<const char*> known, const std::string& hint) {
    for (const auto& kv : params)
      if (std::none_of(known.begin(), known.end(), [&](const char* k) { return kv.first == k; }))
        throw UserError(key + ": 'synthetic:" + spec + "': unknown parameter '" + kv.first + "'", hint);
  };
  if (name == "spirals") {
    only({"classes", "n", "noise"}, "spirals takes classes, n and noise");
    int64_t classes = static_cast<int64_t>(get("classes", 3));
    int64_t n = static_cast<int64_t>(get("n", split == "train" ? 4096 : 1024));
    double noise = get("noise", 1.0);
    if (classes < 2 || n < 1)
      throw UserError(key + ": 'synthetic:" + spec + "' needs classes >= 2 and n >= 1");
    return std::make_unique<Spirals>(classes, n, noise, split, ctx);
  }
  if (name == "tokens") {
    only({"vocab", "n"}, "tokens takes vocab and n");
    if (ctx.block_size <= 0)
      throw UserError(key + ": 'synthetic:" + spec + "' gives token windows, but this model does not read token "
                      "sequences", "use it with a language model (model.family: gpt)");
    const auto vocab = static_cast<int64_t>(get("vocab", static_cast<double>(ctx.vocab_size)));
    const auto n = static_cast<int64_t>(get("n", split == "train" ? 4096 : 256));
    if (vocab < 1)
      throw UserError(key + ": 'synthetic:" + spec + "' needs a vocabulary size", "add ?vocab=V (V >= 1)");
    if (ctx.vocab_size > 0 && vocab > ctx.vocab_size)
      throw UserError(key + ": 'synthetic:" + spec + "' draws ids 0.." + std::to_string(vocab - 1) +
                          ", but the model has vocab_size " + std::to_string(ctx.vocab_size),
                      "use vocab <= " + std::to_string(ctx.vocab_size) + " or leave it out (the model's)");
    if (n < 1) throw UserError(key + ": 'synthetic:" + spec + "' needs n >= 1");
    return std::make_unique<TokenStream>(vocab, n, ctx.block_size, split, ctx);
  }
  throw UserError(key + ": unknown synthetic data set '" + name + "'", "available: synthetic:spirals, synthetic:tokens");
}

}  // namespace ptft
