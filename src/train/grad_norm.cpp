#include "ptft/train/grad_norm.h"

#include <ATen/record_function.h>

#include <cmath>

#include "ptft/core/parallel.h"
#include "ptft/train/adamw_kernel.h"

namespace ptft {

namespace {

constexpr int64_t kChunk = 1 << 16;

// sum of squares of a dense fp32 CPU tensor's values, chunk by chunk on the intra-op threads.
double dense_sum_squares(const torch::Tensor& g) {
  const float* x = g.data_ptr<float>();
  const int64_t n = g.numel();
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<size_t>(chunks));
  ptft::parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) part[c] = sum_squares(x + c * kChunk, std::min(kChunk, n - c * kChunk));
  });
  double total = 0;
  for (double p : part) total += p;
  return total;
}

}  // namespace

double grad_norm(const std::vector<torch::Tensor>& params) {
  RECORD_FUNCTION("ptft::grad_norm", std::vector<c10::IValue>());
  torch::NoGradGuard ng;
  double total = 0;
  std::vector<torch::Tensor> others;  // norms of the gradients libtorch measures
  for (const auto& p : params) {
    const auto& g = p.grad();
    if (!g.defined()) continue;
    if (g.is_cpu() && g.scalar_type() == torch::kFloat && !g.is_sparse() && g.is_non_overlapping_and_dense())
      total += dense_sum_squares(g);
    else  // a bf16 gradient's norm in fp32 (in its own dtype it would be rounded to 3 digits)
      others.push_back((g.is_floating_point() && g.element_size() < 4 ? g.to(torch::kFloat) : g).norm(2).to(torch::kDouble));
  }
  if (!others.empty()) total += torch::stack(others).pow(2).sum().item<double>();
  return std::sqrt(total);
}

double clip_coefficient(double norm, double max_norm) {
  const double coef = max_norm / (norm + 1e-6);
  return max_norm > 0 && coef < 1.0 ? coef : 1.0;
}

}  // namespace ptft
