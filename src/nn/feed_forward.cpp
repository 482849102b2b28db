#include "ptft/nn/feed_forward.h"

#include "ptft/core/error.h"
#include "ptft/nn/dropout.h"
#include "ptft/nn/gelu.h"

namespace ptft::nn {

torch::Tensor activate(const torch::Tensor& x, const std::string& name) {
  namespace F = torch::nn::functional;
  if (name == "gelu_tanh") return gelu_tanh(x);  // nn/gelu.h: vectorised on the CPU
  if (name == "gelu") return gelu_erf(x);
  if (name == "relu") return torch::relu(x);
  throw UserError("unknown activation '" + name + "'", "use gelu_tanh, gelu or relu");
}

FeedForwardImpl::FeedForwardImpl(FeedForwardOptions opts) : options(std::move(opts)) { reset(); }

void FeedForwardImpl::reset() {
  c_fc = register_module("c_fc", Linear(LinearOptions(options.n_embd(), options.n_inner())));
  c_proj = register_module("c_proj", Linear(LinearOptions(options.n_inner(), options.n_embd())));
}

torch::Tensor feed_forward(const torch::Tensor& x, LinearImpl& fc, LinearImpl& proj, const FeedForwardOptions& options,
                           bool training) {
  auto h = activate(fc.forward(x), options.activation());  // (B,T,I)
  auto y = proj.forward(h);                                // (B,T,C)
  return nn::dropout(y, options.dropout(), training);
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  return feed_forward(x, *c_fc, *c_proj, options, is_training());
}

}  // namespace ptft::nn
