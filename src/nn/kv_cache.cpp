#include "ptft/nn/kv_cache.h"

#include <algorithm>

#include "ptft/core/error.h"

namespace ptft::nn {
namespace {

// A buffer of `capacity` positions holding `used` positions of `old` (if defined).
torch::Tensor grown(const torch::Tensor& old, const torch::Tensor& like, int64_t used, int64_t capacity) {
  auto buf = torch::empty({like.size(0), like.size(1), capacity, like.size(3)}, like.options());  // (B,nkv,cap,hs)
  if (used > 0) buf.narrow(2, 0, used).copy_(old.narrow(2, 0, used));
  return buf;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> KvCache::append(const torch::Tensor& k, const torch::Tensor& v) {
  PTFT_CHECK(k.dim() == 4 && v.dim() == 4 && k.size(2) == v.size(2), "KvCache::append takes (B,nkv,T,hs) keys and values");
  const int64_t T = k.size(2);
  if (!k_buf_.defined() || length_ + T > k_buf_.size(2)) {
    const int64_t capacity = std::max<int64_t>({64, length_ + T, 2 * (k_buf_.defined() ? k_buf_.size(2) : 0)});
    k_buf_ = grown(k_buf_, k, length_, capacity);
    v_buf_ = grown(v_buf_, v, length_, capacity);
  }
  k_buf_.narrow(2, length_, T).copy_(k);
  v_buf_.narrow(2, length_, T).copy_(v);
  length_ += T;
  return {keys(), values()};
}

torch::Tensor KvCache::keys() const { return length_ > 0 ? k_buf_.narrow(2, 0, length_) : torch::Tensor(); }

torch::Tensor KvCache::values() const { return length_ > 0 ? v_buf_.narrow(2, 0, length_) : torch::Tensor(); }

}  // namespace ptft::nn
