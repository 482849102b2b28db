#include "ptft/data/replay_mix.h"

#include <cmath>

#include "ptft/core/error.h"

namespace ptft {
namespace {

torch::Tensor pad_width(const torch::Tensor& t, int64_t width, int64_t value) {
  if (t.dim() != 2 || t.size(1) >= width) return t;
  return torch::constant_pad_nd(t, {0, width - t.size(1)}, value);  // (B, T) -> (B, width)
}

}  // namespace

Batch concat_batches(Batch a, const Batch& b) {
  if (a.data.empty()) return b;
  if (b.data.empty()) return a;
  Batch out;
  for (auto& [key, ta] : a.data) {
    auto it = b.data.find(key);
    if (it == b.data.end())
      throw InternalError("concat_batches: the second batch has no '" + key + "' (the sources produce different batches)");
    const torch::Tensor& tb = it->second;
    const int64_t pad_value = key == "targets" ? -100 : 0;
    torch::Tensor x = ta, y = tb;
    if (x.dim() == 2 && y.dim() == 2) {
      const int64_t w = std::max(x.size(1), y.size(1));
      x = pad_width(x, w, pad_value);
      y = pad_width(y, w, pad_value);
    }
    out.data[key] = torch::cat({x, y}, 0);
  }
  out.weight = a.weight + b.weight;
  return out;
}

ReplayMix::ReplayMix(std::unique_ptr<DataSource> domain, std::unique_ptr<DataSource> replay, double fraction)
    : domain_(std::move(domain)), replay_(std::move(replay)), fraction_(fraction) {}

std::string ReplayMix::describe() const {
  return domain_->describe() + " + " + std::to_string(static_cast<int>(std::lround(fraction_ * 100))) +
         "% replay of " + replay_->describe();
}

int64_t ReplayMix::replay_rows(int64_t micro_batch) const {
  return std::min<int64_t>(micro_batch - 1, std::llround(fraction_ * static_cast<double>(micro_batch)));
}

Batch ReplayMix::train_batch(const BatchAddress& at) {
  const int64_t r = replay_rows(at.micro_batch);
  BatchAddress d = at, g = at;
  d.micro_batch = at.micro_batch - r;
  g.micro_batch = r;
  Batch b = domain_->train_batch(d);
  if (r > 0) b = concat_batches(std::move(b), replay_->train_batch(g));
  return b;
}

}  // namespace ptft
