// ptft/models/resnet_torchvision.h — the architecture of a torchvision/timm ResNet state dict,
// inferred from its tensors (the resnet family's "torchvision" format, models/model_files.h, reads
// bare weights with it).
//
// From the tensors:
//   block        bottleneck when layer1.0.conv3.weight exists, else basic
//   layers       blocks per stage: the layerK.I.conv1.weight present
//   width        conv1.weight's output channels; in_channels its input channels
//   stem         conv1.weight 7x7: imagenet (with max-pool), 3x3: small
//   num_classes  fc.weight's rows
//
//   ResNetConfig c = infer_resnet_config(load_tensors("r18.safetensors"), "r18.safetensors");
#pragma once

#include <string>

#include "ptft/io/tensor_io.h"
#include "ptft/models/resnet.h"

namespace ptft {

// UserErrors name `source` and the tensor that does not fit.
ResNetConfig infer_resnet_config(const TensorMap& tensors, const std::string& source);

}  // namespace ptft
