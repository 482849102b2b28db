// Convolution weights held channels-last (see ptft/nn/channels_last.h).
#include "ptft/nn/channels_last.h"

namespace ptft::nn {

void hold_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard ng;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace ptft::nn
