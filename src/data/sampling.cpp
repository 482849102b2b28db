#include "ptft/data/sampling.h"

#include <algorithm>
#include <numeric>

#include "ptft/core/error.h"

namespace ptft {

int64_t eval_batch_count(int64_t n, int64_t batch_size) {
  PTFT_CHECK(batch_size > 0, "eval batch size " + std::to_string(batch_size));
  return (n + batch_size - 1) / batch_size;
}

std::pair<int64_t, int64_t> eval_batch_range(int64_t n, int64_t index, int64_t batch_size) {
  PTFT_CHECK(index >= 0 && index < eval_batch_count(n, batch_size),
             "eval batch " + std::to_string(index) + " of " + std::to_string(eval_batch_count(n, batch_size)));
  return {index * batch_size, std::min(n, (index + 1) * batch_size)};
}

std::vector<int64_t> eval_batch_examples(int64_t n, int64_t index, int64_t batch_size) {
  const auto [begin, end] = eval_batch_range(n, index, batch_size);
  std::vector<int64_t> examples(static_cast<std::size_t>(end - begin));
  std::iota(examples.begin(), examples.end(), begin);
  return examples;
}

EpochShuffle::EpochShuffle(int64_t n, uint64_t key) : n_(n), key_(key) {
  PTFT_CHECK(n > 0, "EpochShuffle of " + std::to_string(n) + " examples");
}

int64_t EpochShuffle::example(int64_t position) {
  PTFT_CHECK(position >= 0, "stream position " + std::to_string(position));
  const int64_t epoch = position / n_;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = perms_.find(epoch);
  if (it == perms_.end()) {
    if (perms_.size() > 4) perms_.erase(perms_.begin());  // the prefetcher runs at most a little ahead
    auto gen = at::detail::createCPUGenerator(key_ + static_cast<uint64_t>(epoch));
    it = perms_.emplace(epoch, torch::randperm(n_, gen, torch::kLong)).first;
  }
  return it->second.data_ptr<int64_t>()[position % n_];
}

std::vector<int64_t> EpochShuffle::examples(int64_t first, int64_t count) {
  std::vector<int64_t> out(static_cast<std::size_t>(count));
  for (int64_t j = 0; j < count; ++j) out[static_cast<std::size_t>(j)] = example(first + j);
  return out;
}

}  // namespace ptft
