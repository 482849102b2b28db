#include "ptft/infer/sampling.h"

#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "ptft/core/error.h"

namespace ptft {

void SamplingOptions::validate() const {
  if (max_new_tokens < 1)
    throw UserError("--max-new-tokens must be >= 1, got " + std::to_string(max_new_tokens));
  if (!(temperature >= 0))
    throw UserError("--temperature must be >= 0, got " + std::to_string(temperature), "0 = greedy decoding");
  if (top_k < 0) throw UserError("--top-k must be >= 0, got " + std::to_string(top_k), "0 = off");
  if (!(top_p > 0 && top_p <= 1))
    throw UserError("--top-p must be in (0, 1], got " + std::to_string(top_p), "1 = off");
  for (const auto& s : stop)
    if (s.empty()) throw UserError("--stop: a stop string must not be empty");
}

Sampler::Sampler(const SamplingOptions& opt)
    : opt_(opt), gen_(at::make_generator<at::CPUGeneratorImpl>(opt.seed)) {}

int64_t Sampler::sample(const torch::Tensor& logits, int64_t allowed) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  auto l = logits.detach().to(torch::kCPU, torch::kFloat).reshape({-1}).clone();  // (V)
  const int64_t V = l.size(0);
  if (allowed > 0 && allowed < V) l.slice(0, allowed).fill_(neg_inf);
  if (opt_.temperature == 0) return l.argmax().item<int64_t>();

  l.div_(opt_.temperature);
  if (opt_.top_k > 0 && opt_.top_k < V) {
    const auto kth = std::get<0>(l.topk(opt_.top_k)).min();  // the k-th largest logit
    l.masked_fill_(l < kth, neg_inf);
  }
  auto probs = torch::softmax(l, 0);  // (V)
  if (opt_.top_p < 1) {
    auto [sorted, order] = probs.sort(0, /*descending=*/true);
    // Keep a token while the probability of the more likely ones is below top_p: the most
    // likely token is always kept.
    auto before = sorted.cumsum(0) - sorted;
    auto drop = before >= opt_.top_p;
    probs.index_fill_(0, order.masked_select(drop), 0.0);
  }
  return torch::multinomial(probs, 1, /*replacement=*/false, gen_).item<int64_t>();
}

}  // namespace ptft
