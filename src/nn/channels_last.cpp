// Convolution weights held channels-last (see ptft/nn/channels_last.h).
#include "ptft/nn/channels_last.h"

namespace ptft::nn {

void hold_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard ng;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor channels_last_strides(const torch::Tensor& x) {
  constexpr auto nhwc = torch::MemoryFormat::ChannelsLast;
  if (x.dim() != 4 || x.size(1) != 1 || x.stride(1) == 1) return x.contiguous(nhwc);
  const torch::Tensor c = x.contiguous();  // one channel: the same bytes in either layout, so a view
  return c.as_strided(c.sizes(), {c.size(2) * c.size(3), 1, c.size(3), 1});  // strides (HW, 1, W, 1)
}

}  // namespace ptft::nn
