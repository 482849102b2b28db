// ptft/nn/channels_last.h — convolution weights held in the layout of the activations they meet.
//
// ptft's convolutional trunks run channels-last (NHWC) activations. A weight held NCHW makes
// libtorch reorder it to channels-last at every forward and twice in every backward, and turn its
// gradient back (small strided copies: ~7 % of a ResNet-18 step at 32 px on the xeon machine).
// Held channels-last — the same logical (O, I, kh, kw) tensor with strides of (O, kh, kw, I) —
// neither happens: resnet18 at 3x32x32 trained 795 -> 850 img/s fp32, 635 -> 690 bf16
// (docs/results.md). Checkpoints are unaffected (tensors are written in row-major order and
// copied into whatever layout the parameter has); optimizer state takes the parameter's layout.
//
//   nn::hold_channels_last(*this);   // after the convolutions are registered and initialised
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

// Every 4-d parameter of `module` and its submodules (convolution weights) made channels-last in
// place (set_data: the Parameter objects, and any optimizer built later, see the new layout).
void hold_channels_last(torch::nn::Module& module);

// x (B,C,H,W) with channels-last strides, C == 1 included: there NCHW and NHWC coincide, contiguous()
// keeps the NCHW strides, and libtorch then convolves in NCHW and gives an NCHW output (which cost
// resnet-fmnist's stem a copy to channels-last forward and one back in the backward).
torch::Tensor channels_last_strides(const torch::Tensor& x);

}  // namespace ptft::nn
