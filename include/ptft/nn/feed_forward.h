// ptft/nn/feed_forward.h — the transformer MLP: c_fc (C -> I), activation, c_proj (I -> C).
//
//   nn::FeedForward ff(nn::FeedForwardOptions(768, 3072).activation("gelu_tanh"));
//   y = ff->forward(x);   // (B,T,C) -> (B,T,C)
#pragma once

#include <torch/torch.h>

#include "ptft/nn/linear.h"

namespace ptft::nn {

struct FeedForwardOptions {
  FeedForwardOptions(int64_t n_embd, int64_t n_inner) : n_embd_(n_embd), n_inner_(n_inner) {}
  TORCH_ARG(int64_t, n_embd);
  TORCH_ARG(int64_t, n_inner);
  TORCH_ARG(std::string, activation) = "gelu_tanh";  // gelu_tanh (GPT-2 "gelu_new") | gelu (exact, BERT) | relu
  TORCH_ARG(double, dropout) = 0.0;                   // on the output
};

class FeedForwardImpl : public torch::nn::Cloneable<FeedForwardImpl> {
 public:
  explicit FeedForwardImpl(FeedForwardOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  FeedForwardOptions options;
  Linear c_fc{nullptr};    // (I, C)
  Linear c_proj{nullptr};  // (C, I)
};
TORCH_MODULE(FeedForward);

// The activations by name; UserError for unknown names.
torch::Tensor activate(const torch::Tensor& x, const std::string& name);

}  // namespace ptft::nn
