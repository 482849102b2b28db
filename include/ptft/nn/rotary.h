// ptft/nn/rotary.h — rotary position embeddings (Su et al. 2021) in Hugging Face's layout: the
// head's first and second halves are the two coordinates of each rotated pair (rotate_half), not
// interleaved pairs. Frequencies inv_freq[i] = theta^(-2i/d), optionally rescaled for longer
// contexts as HF's rope_scaling says: "linear" (positions / factor) or "llama3" (Llama 3.1's
// wavelength-dependent blend). Other rope types are refused by name.
//
//   nn::RopeScaling s;  s.type = "llama3";  s.factor = 8;  ...
//   auto rope = std::make_shared<nn::Rotary>(/*head_dim=*/64, /*theta=*/500000.0, s, /*max_positions=*/8192);
//   rope->apply(q, k, offset);    // q (B,nh,T,hs), k (B,nkv,T,hs), positions offset .. offset+T-1
#pragma once

#include <torch/torch.h>

#include <map>
#include <mutex>
#include <string>

namespace ptft::nn {

struct RopeScaling {
  std::string type = "default";            // default | linear | llama3
  double factor = 1.0;                     // linear, llama3
  double low_freq_factor = 1.0;            // llama3
  double high_freq_factor = 4.0;           // llama3
  int64_t original_max_positions = 8192;   // llama3: the context the model was trained at
  // UserError naming `where` (e.g. "config.json rope_scaling") for an unknown type or bad values.
  void validate(const std::string& where) const;
};

// The d/2 inverse frequencies (float32, as HF computes them) after scaling.
torch::Tensor rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& scaling);

class Rotary {
 public:
  Rotary(int64_t head_dim, double theta, RopeScaling scaling, int64_t max_positions);
  // Rotates q and k in place of the tensors (new tensors assigned), positions offset.. (offset+T).
  void apply(torch::Tensor& q, torch::Tensor& k, int64_t offset) const;
  int64_t head_dim() const { return head_dim_; }

 private:
  // cos and sin (max_positions, head_dim) on `device` in float32, made once per device.
  std::pair<torch::Tensor, torch::Tensor> tables(const torch::Device& device) const;

  int64_t head_dim_;
  int64_t max_positions_;
  torch::Tensor cos_, sin_;  // CPU, (max_positions, head_dim)
  mutable std::mutex mu_;
  mutable std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> on_device_;
};

}  // namespace ptft::nn
