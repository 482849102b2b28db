#include "ptft/nn/decode_attention.h"

#include <cmath>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/decode_attention_kernel.h"

namespace ptft::nn {
namespace {

// libtorch's ops: query heads grouped by the key/value head they read, so k and v are never
// repeated for GQA and each product is one matmul over B*nkv groups instead of one GEMM per head.
torch::Tensor grouped_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale) {
  const int64_t B = q.size(0), nh = q.size(1), hs = q.size(3), nkv = k.size(1);
  auto qg = q.reshape({B, nkv, nh / nkv, hs});                                    // (B,nkv,rep,hs)
  auto att = torch::softmax(torch::matmul(qg * scale, k.transpose(-2, -1)), -1);  // (B,nkv,rep,Tk)
  return torch::matmul(att, v).view({B, nh, 1, v.size(3)});                      // (B,nkv,rep,hs) -> (B,nh,1,hs)
}

}  // namespace

bool decode_attention_fused(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t hs = q.size(3);
  auto rows = [hs](const torch::Tensor& t) {  // rows of hs contiguous values (a cache buffer's narrowed view)
    return t.is_cpu() && t.scalar_type() == torch::kFloat && t.size(3) == hs && t.stride(3) == 1 && t.stride(2) == hs;
  };
  return !torch::GradMode::is_enabled() && q.is_cpu() && q.scalar_type() == torch::kFloat && q.stride(3) == 1 &&
         rows(k) && rows(v) && k.size(2) > 0;
}

torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  PTFT_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && q.size(2) == 1 && k.sizes() == v.sizes() &&
                 q.size(0) == k.size(0) && q.size(3) == k.size(3) && k.size(1) > 0 && q.size(1) % k.size(1) == 0,
             "decode_attention takes q (B,nh,1,hs) and k, v (B,nkv,Tk,hs) with nkv dividing nh");
  const int64_t B = q.size(0), nh = q.size(1), hs = q.size(3), nkv = k.size(1), L = k.size(2), rep = nh / nkv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  if (!decode_attention_fused(q, k, v)) return grouped_attention(q, k, v, scale);
  auto y = torch::empty({B, nh, 1, hs}, q.options());  // (B,nh,1,hs)
  const float* qp = q.data_ptr<float>();
  const float *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  // Heads split over the threads when each chunk holds ~16k multiply-adds or more.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, L * hs));
  ptft::parallel_for(0, B * nh, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(2 * L));  // scores, probabilities
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / nh, h = i % nh, g = h / rep;
      decode_attention_head(qp + b * q.stride(0) + h * q.stride(1), kp + b * k.stride(0) + g * k.stride(1),
                            vp + b * v.stride(0) + g * v.stride(1), hs, L, hs, static_cast<float>(scale),
                            scratch.data(), yp + i * hs);
    }
  });
  return y;
}

}  // namespace ptft::nn
