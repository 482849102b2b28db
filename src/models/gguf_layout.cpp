#include "gguf_layout.h"

#include "ptft/nn/rotary.h"

namespace ptft::gguf_arch {
namespace {

// (n*d, ...) viewed as (n, a, b, ...) with a*b = d, the a and b axes swapped, flattened back.
torch::Tensor swap_within_heads(const torch::Tensor& t, int64_t n, int64_t a, int64_t b) {
  std::vector<int64_t> split = {n, a, b};
  for (int64_t i = 1; i < t.dim(); ++i) split.push_back(t.size(i));
  return t.reshape(split).transpose(1, 2).reshape(t.sizes());
}

}  // namespace

torch::Tensor to_gguf_layout(const torch::Tensor& hf, Layout layout, const nlohmann::json& hf_config) {
  switch (layout) {
    case Layout::kSame: return hf;
    case Layout::kTransposed: return hf.t();
    case Layout::kRopeQ:
    case Layout::kRopeK: {
      const auto [n, d] = rope_heads(hf_config, layout);
      return swap_within_heads(hf, n, 2, d / 2);  // (n, 2, d/2) -> (n, d/2, 2)
    }
  }
  return hf;
}

torch::Tensor to_hf_layout(const torch::Tensor& gguf, Layout layout, const nlohmann::json& hf_config) {
  switch (layout) {
    case Layout::kSame: return gguf;
    case Layout::kTransposed: return gguf.t();
    case Layout::kRopeQ:
    case Layout::kRopeK: {
      const auto [n, d] = rope_heads(hf_config, layout);
      return swap_within_heads(gguf, n, d / 2, 2);  // (n, d/2, 2) -> (n, 2, d/2)
    }
  }
  return gguf;
}

torch::Tensor llama3_rope_freqs(const nlohmann::json& c) {
  const nlohmann::json& rs = c.at("rope_scaling");
  nn::RopeScaling s;
  s.type = "llama3";
  s.factor = rs.at("factor").get<double>();
  s.low_freq_factor = rs.at("low_freq_factor").get<double>();
  s.high_freq_factor = rs.at("high_freq_factor").get<double>();
  s.original_max_positions = rs.at("original_max_position_embeddings").get<int64_t>();
  const int64_t d = rope_heads(c, Layout::kRopeQ).second;
  const double theta = c.at("rope_theta").get<double>();
  return nn::rope_inv_freq(d, theta, nn::RopeScaling{}) / nn::rope_inv_freq(d, theta, s);
}

}  // namespace ptft::gguf_arch
