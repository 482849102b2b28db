// ptft/io/torchvision_resnet.h — torchvision/timm ResNet state dicts as safetensors: read one as a
// checkpoint (the architecture inferred from the tensors), export a ptft ResNet as one.
//
// Bare weights are a `.safetensors` file, or a directory holding model.safetensors and no
// config.json (e.g. `safetensors.torch.save_file(torchvision.models.resnet50(weights=...)
// .state_dict(), "r50.safetensors")`; timm's ResNets use the same names). From the tensors:
//   block        bottleneck when layer1.0.conv3.weight exists, else basic
//   layers       blocks per stage: the layerK.I.conv1.weight present
//   width        conv1.weight's output channels; in_channels its input channels
//   stem         conv1.weight 7x7: imagenet (with max-pool), 3x3: small
//   num_classes  fc.weight's rows
// Every other tensor must then be exactly what that architecture has (errors name the tensor and
// both shapes); a missing num_batches_tracked (some exporters drop it) is set to 0. F16/BF16/F64
// become F32.
//
//   if (is_bare_weights(path)) Checkpoint c = read_torchvision_resnet(path);  // read_checkpoint does this
//   export_torchvision_resnet(*model, "out/tv");   // out/tv/model.safetensors + README.md
#pragma once

#include <string>

#include "ptft/io/checkpoint.h"
#include "ptft/models/model.h"
#include "ptft/models/resnet.h"

namespace ptft {

// True for a regular file named *.safetensors, or a directory with model.safetensors and no config.json.
bool is_bare_weights(const std::string& path);

// The ResNet architecture of a torchvision/timm state dict (see above); UserErrors name `source`
// and the tensor that does not fit.
ResNetConfig infer_resnet_config(const TensorMap& tensors, const std::string& source);

// Reads bare ResNet weights as a weights-only checkpoint: config in ptft's form
// (resnet_config_json, default class names, "ptft": {family resnet, task classification,
// source "torchvision:<path>"}), weights f32 under torchvision's names (which are ptft's).
Checkpoint read_torchvision_resnet(const std::string& path);

// Writes `model` (family resnet) at `out_dir` (absent or empty) atomically: model.safetensors with
// exactly torchvision's keys (f32; num_batches_tracked int64) and README.md naming the
// architecture, the classes and how to load the file into torchvision.
void export_torchvision_resnet(ModelImpl& model, const std::string& out_dir);

}  // namespace ptft
