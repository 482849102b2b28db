#include "ptft/nn/gated_feed_forward.h"

#include "ptft/core/error.h"
#include "ptft/nn/feed_forward.h"
#include "ptft/nn/swiglu.h"

namespace ptft::nn {

GatedFeedForwardImpl::GatedFeedForwardImpl(GatedFeedForwardOptions opts) : options(std::move(opts)) { reset(); }

void GatedFeedForwardImpl::reset() {
  if (options.activation() != "silu" && options.activation() != "gelu_tanh")
    throw UserError("unknown gated MLP activation '" + options.activation() + "'", "use silu or gelu_tanh");
  const int64_t C = options.n_embd(), I = options.n_inner();
  gate_proj = register_module("gate_proj", Linear(LinearOptions(C, I).bias(options.bias())));
  up_proj = register_module("up_proj", Linear(LinearOptions(C, I).bias(options.bias())));
  down_proj = register_module("down_proj", Linear(LinearOptions(I, C).bias(options.bias())));
}

torch::Tensor GatedFeedForwardImpl::forward(const torch::Tensor& x) {
  auto g = gate_proj->forward(x);                                                   // (B,T,I)
  auto u = up_proj->forward(x);                                                     // (B,T,I)
  auto a = options.activation() == "silu" ? swiglu(g, u) : activate(g, "gelu_tanh") * u;
  return down_proj->forward(a);                                                     // (B,T,C)
}

}  // namespace ptft::nn
