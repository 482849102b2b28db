// ptft/nn/kv_cache.h — the keys and values of the positions a layer has seen, for generation.
// Held in buffers that grow by doubling, so a decode step copies its one new position instead of
// the whole past (a torch::cat per step and layer copies T_past positions: O(T^2) per text).
//
//   nn::KvCache cache;
//   auto [k, v] = cache.append(k_new, v_new);   // (B,nkv,T,hs) each -> (B,nkv,T_past+T,hs) views
//   cache.length();                             // T_past + T
#pragma once

#include <torch/torch.h>

#include <utility>

namespace ptft::nn {

class KvCache {
 public:
  // Appends T positions; returns every position so far as views of the buffers (valid until the
  // next append). k and v: (B, n_kv_head, T, head_size), the same B, heads, dtype and device each call.
  std::pair<torch::Tensor, torch::Tensor> append(const torch::Tensor& k, const torch::Tensor& v);
  int64_t length() const { return length_; }
  torch::Tensor keys() const;    // (B,nkv,length,hs); undefined while empty
  torch::Tensor values() const;  // (B,nkv,length,hs)

 private:
  torch::Tensor k_buf_, v_buf_;  // (B,nkv,capacity,hs)
  int64_t length_ = 0;
};

}  // namespace ptft::nn
