// ptft/nn/decode_attention.h — the attention of a decode step: one query position per head
// against every key and value so far (the KV cache), grouped-query heads reading their shared
// key/value head in place (never repeated).
//
//   y = nn::decode_attention(q, k, v);   // q (B,nh,1,hs), k/v (B,nkv,Tk,hs) -> (B,nh,1,hs)
//
// On the CPU in float32 without gradients, one torch-free pass per head (nn/decode_attention_kernel.h)
// over the cache's rows, heads split over the threads: a few microseconds where libtorch's
// scale, two batched GEMMs, softmax and reshapes cost tens per layer and token. Otherwise (CUDA,
// another dtype, gradients) libtorch's ops, grouped by key/value head.
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

// Whether decode_attention runs the kernel on these: float32 CPU tensors, gradients off, rows of
// k and v contiguous (hs apart: a KV cache buffer's view is).
bool decode_attention_fused(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

}  // namespace ptft::nn
