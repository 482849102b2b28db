// ptft/nn/feed_forward.h — the transformer MLP: c_fc (C -> I), activation, c_proj (I -> C).
//
// FeedForward is the module (GPT-2's mlp.c_fc, mlp.c_proj); feed_forward() the computation, for
// families whose two projections are not children of one module (BERT: intermediate.dense and
// output.dense).
//
//   nn::FeedForward ff(nn::FeedForwardOptions(768, 3072).activation("gelu_tanh"));
//   y = ff->forward(x);   // (B,T,C) -> (B,T,C)
//   y = nn::feed_forward(x, *fc, *proj, ff_options, is_training());
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

// dropout(proj(activation(fc(x)))): x (B,T,C), fc (I,C), proj (C,I) -> (B,T,C); `options` gives
// the activation and the dropout (applied only when `training`); its widths are not read.
torch::Tensor feed_forward(const torch::Tensor& x, LinearImpl& fc, LinearImpl& proj, const FeedForwardOptions& options,
                           bool training);

// The activations by name; UserError for unknown names.
torch::Tensor activate(const torch::Tensor& x, const std::string& name);

}  // namespace ptft::nn
