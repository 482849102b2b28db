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

void GatedFeedForwardImpl::stack_decode_weights() { gate_up_decode_.stack({gate_proj.get(), up_proj.get()}); }

torch::Tensor GatedFeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor g, u;  // (B,T,I) each
  if (gate_up_decode_.reads(x)) {  // a decode step: one gemv over gate|up's stacked bf16 rows
    auto gu = gate_up_decode_.forward(x);
    g = gu[0];
    u = gu[1];
  } else {  // one product over gate|up's rows when they stack (several rows), else each its own
    auto gu = gate_up_.forward({gate_proj.get(), up_proj.get()}, x);
    g = gu[0];
    u = gu[1];
  }
  auto a = options.activation() == "silu" ? swiglu(g, u) : activate(g, "gelu_tanh") * u;
  return down_proj->forward(a);                                                     // (B,T,C)
}

}  // namespace ptft::nn
