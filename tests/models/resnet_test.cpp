// Tests for ptft/models/resnet.h: torchvision's names and shapes (literal lists printed once by
// torchvision 0.14: `for k, v in torchvision.models.resnet18().state_dict().items(): print(k, shape,
// dtype)`), forward shapes for both stems, FLOPs against torchvision's published counts, transfer
// hooks (param_place, no_weight_decay), frozen BatchNorm inside the model, set_classes, config
// round trips and errors, save -> load and an overfit-one-batch check. Golden logits against an
// independent numpy ResNet and torchvision are in tests/io/torchvision_resnet_test.cpp.
#include "ptft/models/resnet.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>

#include "../common/temp_dir.h"
#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/io/checkpoint.h"
#include "overfit.h"

namespace ptft {
namespace {

// torchvision.models.resnet18(): name, shape (x-separated; "-" for a scalar), dtype.
const char* kTorchvisionResnet18 = R"(
conv1.weight 64x3x7x7 float32
bn1.weight 64 float32
bn1.bias 64 float32
bn1.running_mean 64 float32
bn1.running_var 64 float32
bn1.num_batches_tracked - int64
layer1.0.conv1.weight 64x64x3x3 float32
layer1.0.bn1.weight 64 float32
layer1.0.bn1.bias 64 float32
layer1.0.bn1.running_mean 64 float32
layer1.0.bn1.running_var 64 float32
layer1.0.bn1.num_batches_tracked - int64
layer1.0.conv2.weight 64x64x3x3 float32
layer1.0.bn2.weight 64 float32
layer1.0.bn2.bias 64 float32
layer1.0.bn2.running_mean 64 float32
layer1.0.bn2.running_var 64 float32
layer1.0.bn2.num_batches_tracked - int64
layer1.1.conv1.weight 64x64x3x3 float32
layer1.1.bn1.weight 64 float32
layer1.1.bn1.bias 64 float32
layer1.1.bn1.running_mean 64 float32
layer1.1.bn1.running_var 64 float32
layer1.1.bn1.num_batches_tracked - int64
layer1.1.conv2.weight 64x64x3x3 float32
layer1.1.bn2.weight 64 float32
layer1.1.bn2.bias 64 float32
layer1.1.bn2.running_mean 64 float32
layer1.1.bn2.running_var 64 float32
layer1.1.bn2.num_batches_tracked - int64
layer2.0.conv1.weight 128x64x3x3 float32
layer2.0.bn1.weight 128 float32
layer2.0.bn1.bias 128 float32
layer2.0.bn1.running_mean 128 float32
layer2.0.bn1.running_var 128 float32
layer2.0.bn1.num_batches_tracked - int64
layer2.0.conv2.weight 128x128x3x3 float32
layer2.0.bn2.weight 128 float32
layer2.0.bn2.bias 128 float32
layer2.0.bn2.running_mean 128 float32
layer2.0.bn2.running_var 128 float32
layer2.0.bn2.num_batches_tracked - int64
layer2.0.downsample.0.weight 128x64x1x1 float32
layer2.0.downsample.1.weight 128 float32
layer2.0.downsample.1.bias 128 float32
layer2.0.downsample.1.running_mean 128 float32
layer2.0.downsample.1.running_var 128 float32
layer2.0.downsample.1.num_batches_tracked - int64
layer2.1.conv1.weight 128x128x3x3 float32
layer2.1.bn1.weight 128 float32
layer2.1.bn1.bias 128 float32
layer2.1.bn1.running_mean 128 float32
layer2.1.bn1.running_var 128 float32
layer2.1.bn1.num_batches_tracked - int64
layer2.1.conv2.weight 128x128x3x3 float32
layer2.1.bn2.weight 128 float32
layer2.1.bn2.bias 128 float32
layer2.1.bn2.running_mean 128 float32
layer2.1.bn2.running_var 128 float32
layer2.1.bn2.num_batches_tracked - int64
layer3.0.conv1.weight 256x128x3x3 float32
layer3.0.bn1.weight 256 float32
layer3.0.bn1.bias 256 float32
layer3.0.bn1.running_mean 256 float32
layer3.0.bn1.running_var 256 float32
layer3.0.bn1.num_batches_tracked - int64
layer3.0.conv2.weight 256x256x3x3 float32
layer3.0.bn2.weight 256 float32
layer3.0.bn2.bias 256 float32
layer3.0.bn2.running_mean 256 float32
layer3.0.bn2.running_var 256 float32
layer3.0.bn2.num_batches_tracked - int64
layer3.0.downsample.0.weight 256x128x1x1 float32
layer3.0.downsample.1.weight 256 float32
layer3.0.downsample.1.bias 256 float32
layer3.0.downsample.1.running_mean 256 float32
layer3.0.downsample.1.running_var 256 float32
layer3.0.downsample.1.num_batches_tracked - int64
layer3.1.conv1.weight 256x256x3x3 float32
layer3.1.bn1.weight 256 float32
layer3.1.bn1.bias 256 float32
layer3.1.bn1.running_mean 256 float32
layer3.1.bn1.running_var 256 float32
layer3.1.bn1.num_batches_tracked - int64
layer3.1.conv2.weight 256x256x3x3 float32
layer3.1.bn2.weight 256 float32
layer3.1.bn2.bias 256 float32
layer3.1.bn2.running_mean 256 float32
layer3.1.bn2.running_var 256 float32
layer3.1.bn2.num_batches_tracked - int64
layer4.0.conv1.weight 512x256x3x3 float32
layer4.0.bn1.weight 512 float32
layer4.0.bn1.bias 512 float32
layer4.0.bn1.running_mean 512 float32
layer4.0.bn1.running_var 512 float32
layer4.0.bn1.num_batches_tracked - int64
layer4.0.conv2.weight 512x512x3x3 float32
layer4.0.bn2.weight 512 float32
layer4.0.bn2.bias 512 float32
layer4.0.bn2.running_mean 512 float32
layer4.0.bn2.running_var 512 float32
layer4.0.bn2.num_batches_tracked - int64
layer4.0.downsample.0.weight 512x256x1x1 float32
layer4.0.downsample.1.weight 512 float32
layer4.0.downsample.1.bias 512 float32
layer4.0.downsample.1.running_mean 512 float32
layer4.0.downsample.1.running_var 512 float32
layer4.0.downsample.1.num_batches_tracked - int64
layer4.1.conv1.weight 512x512x3x3 float32
layer4.1.bn1.weight 512 float32
layer4.1.bn1.bias 512 float32
layer4.1.bn1.running_mean 512 float32
layer4.1.bn1.running_var 512 float32
layer4.1.bn1.num_batches_tracked - int64
layer4.1.conv2.weight 512x512x3x3 float32
layer4.1.bn2.weight 512 float32
layer4.1.bn2.bias 512 float32
layer4.1.bn2.running_mean 512 float32
layer4.1.bn2.running_var 512 float32
layer4.1.bn2.num_batches_tracked - int64
fc.weight 1000x512 float32
fc.bias 1000 float32
)";

// torchvision.models.resnet50().
const char* kTorchvisionResnet50 = R"(
conv1.weight 64x3x7x7 float32
bn1.weight 64 float32
bn1.bias 64 float32
bn1.running_mean 64 float32
bn1.running_var 64 float32
bn1.num_batches_tracked - int64
layer1.0.conv1.weight 64x64x1x1 float32
layer1.0.bn1.weight 64 float32
layer1.0.bn1.bias 64 float32
layer1.0.bn1.running_mean 64 float32
layer1.0.bn1.running_var 64 float32
layer1.0.bn1.num_batches_tracked - int64
layer1.0.conv2.weight 64x64x3x3 float32
layer1.0.bn2.weight 64 float32
layer1.0.bn2.bias 64 float32
layer1.0.bn2.running_mean 64 float32
layer1.0.bn2.running_var 64 float32
layer1.0.bn2.num_batches_tracked - int64
layer1.0.conv3.weight 256x64x1x1 float32
layer1.0.bn3.weight 256 float32
layer1.0.bn3.bias 256 float32
layer1.0.bn3.running_mean 256 float32
layer1.0.bn3.running_var 256 float32
layer1.0.bn3.num_batches_tracked - int64
layer1.0.downsample.0.weight 256x64x1x1 float32
layer1.0.downsample.1.weight 256 float32
layer1.0.downsample.1.bias 256 float32
layer1.0.downsample.1.running_mean 256 float32
layer1.0.downsample.1.running_var 256 float32
layer1.0.downsample.1.num_batches_tracked - int64
layer1.1.conv1.weight 64x256x1x1 float32
layer1.1.bn1.weight 64 float32
layer1.1.bn1.bias 64 float32
layer1.1.bn1.running_mean 64 float32
layer1.1.bn1.running_var 64 float32
layer1.1.bn1.num_batches_tracked - int64
layer1.1.conv2.weight 64x64x3x3 float32
layer1.1.bn2.weight 64 float32
layer1.1.bn2.bias 64 float32
layer1.1.bn2.running_mean 64 float32
layer1.1.bn2.running_var 64 float32
layer1.1.bn2.num_batches_tracked - int64
layer1.1.conv3.weight 256x64x1x1 float32
layer1.1.bn3.weight 256 float32
layer1.1.bn3.bias 256 float32
layer1.1.bn3.running_mean 256 float32
layer1.1.bn3.running_var 256 float32
layer1.1.bn3.num_batches_tracked - int64
layer1.2.conv1.weight 64x256x1x1 float32
layer1.2.bn1.weight 64 float32
layer1.2.bn1.bias 64 float32
layer1.2.bn1.running_mean 64 float32
layer1.2.bn1.running_var 64 float32
layer1.2.bn1.num_batches_tracked - int64
layer1.2.conv2.weight 64x64x3x3 float32
layer1.2.bn2.weight 64 float32
layer1.2.bn2.bias 64 float32
layer1.2.bn2.running_mean 64 float32
layer1.2.bn2.running_var 64 float32
layer1.2.bn2.num_batches_tracked - int64
layer1.2.conv3.weight 256x64x1x1 float32
layer1.2.bn3.weight 256 float32
layer1.2.bn3.bias 256 float32
layer1.2.bn3.running_mean 256 float32
layer1.2.bn3.running_var 256 float32
layer1.2.bn3.num_batches_tracked - int64
layer2.0.conv1.weight 128x256x1x1 float32
layer2.0.bn1.weight 128 float32
layer2.0.bn1.bias 128 float32
layer2.0.bn1.running_mean 128 float32
layer2.0.bn1.running_var 128 float32
layer2.0.bn1.num_batches_tracked - int64
layer2.0.conv2.weight 128x128x3x3 float32
layer2.0.bn2.weight 128 float32
layer2.0.bn2.bias 128 float32
layer2.0.bn2.running_mean 128 float32
layer2.0.bn2.running_var 128 float32
layer2.0.bn2.num_batches_tracked - int64
layer2.0.conv3.weight 512x128x1x1 float32
layer2.0.bn3.weight 512 float32
layer2.0.bn3.bias 512 float32
layer2.0.bn3.running_mean 512 float32
layer2.0.bn3.running_var 512 float32
layer2.0.bn3.num_batches_tracked - int64
layer2.0.downsample.0.weight 512x256x1x1 float32
layer2.0.downsample.1.weight 512 float32
layer2.0.downsample.1.bias 512 float32
layer2.0.downsample.1.running_mean 512 float32
layer2.0.downsample.1.running_var 512 float32
layer2.0.downsample.1.num_batches_tracked - int64
layer2.1.conv1.weight 128x512x1x1 float32
layer2.1.bn1.weight 128 float32
layer2.1.bn1.bias 128 float32
layer2.1.bn1.running_mean 128 float32
layer2.1.bn1.running_var 128 float32
layer2.1.bn1.num_batches_tracked - int64
layer2.1.conv2.weight 128x128x3x3 float32
layer2.1.bn2.weight 128 float32
layer2.1.bn2.bias 128 float32
layer2.1.bn2.running_mean 128 float32
layer2.1.bn2.running_var 128 float32
layer2.1.bn2.num_batches_tracked - int64
layer2.1.conv3.weight 512x128x1x1 float32
layer2.1.bn3.weight 512 float32
layer2.1.bn3.bias 512 float32
layer2.1.bn3.running_mean 512 float32
layer2.1.bn3.running_var 512 float32
layer2.1.bn3.num_batches_tracked - int64
layer2.2.conv1.weight 128x512x1x1 float32
layer2.2.bn1.weight 128 float32
layer2.2.bn1.bias 128 float32
layer2.2.bn1.running_mean 128 float32
layer2.2.bn1.running_var 128 float32
layer2.2.bn1.num_batches_tracked - int64
layer2.2.conv2.weight 128x128x3x3 float32
layer2.2.bn2.weight 128 float32
layer2.2.bn2.bias 128 float32
layer2.2.bn2.running_mean 128 float32
layer2.2.bn2.running_var 128 float32
layer2.2.bn2.num_batches_tracked - int64
layer2.2.conv3.weight 512x128x1x1 float32
layer2.2.bn3.weight 512 float32
layer2.2.bn3.bias 512 float32
layer2.2.bn3.running_mean 512 float32
layer2.2.bn3.running_var 512 float32
layer2.2.bn3.num_batches_tracked - int64
layer2.3.conv1.weight 128x512x1x1 float32
layer2.3.bn1.weight 128 float32
layer2.3.bn1.bias 128 float32
layer2.3.bn1.running_mean 128 float32
layer2.3.bn1.running_var 128 float32
layer2.3.bn1.num_batches_tracked - int64
layer2.3.conv2.weight 128x128x3x3 float32
layer2.3.bn2.weight 128 float32
layer2.3.bn2.bias 128 float32
layer2.3.bn2.running_mean 128 float32
layer2.3.bn2.running_var 128 float32
layer2.3.bn2.num_batches_tracked - int64
layer2.3.conv3.weight 512x128x1x1 float32
layer2.3.bn3.weight 512 float32
layer2.3.bn3.bias 512 float32
layer2.3.bn3.running_mean 512 float32
layer2.3.bn3.running_var 512 float32
layer2.3.bn3.num_batches_tracked - int64
layer3.0.conv1.weight 256x512x1x1 float32
layer3.0.bn1.weight 256 float32
layer3.0.bn1.bias 256 float32
layer3.0.bn1.running_mean 256 float32
layer3.0.bn1.running_var 256 float32
layer3.0.bn1.num_batches_tracked - int64
layer3.0.conv2.weight 256x256x3x3 float32
layer3.0.bn2.weight 256 float32
layer3.0.bn2.bias 256 float32
layer3.0.bn2.running_mean 256 float32
layer3.0.bn2.running_var 256 float32
layer3.0.bn2.num_batches_tracked - int64
layer3.0.conv3.weight 1024x256x1x1 float32
layer3.0.bn3.weight 1024 float32
layer3.0.bn3.bias 1024 float32
layer3.0.bn3.running_mean 1024 float32
layer3.0.bn3.running_var 1024 float32
layer3.0.bn3.num_batches_tracked - int64
layer3.0.downsample.0.weight 1024x512x1x1 float32
layer3.0.downsample.1.weight 1024 float32
layer3.0.downsample.1.bias 1024 float32
layer3.0.downsample.1.running_mean 1024 float32
layer3.0.downsample.1.running_var 1024 float32
layer3.0.downsample.1.num_batches_tracked - int64
layer3.1.conv1.weight 256x1024x1x1 float32
layer3.1.bn1.weight 256 float32
layer3.1.bn1.bias 256 float32
layer3.1.bn1.running_mean 256 float32
layer3.1.bn1.running_var 256 float32
layer3.1.bn1.num_batches_tracked - int64
layer3.1.conv2.weight 256x256x3x3 float32
layer3.1.bn2.weight 256 float32
layer3.1.bn2.bias 256 float32
layer3.1.bn2.running_mean 256 float32
layer3.1.bn2.running_var 256 float32
layer3.1.bn2.num_batches_tracked - int64
layer3.1.conv3.weight 1024x256x1x1 float32
layer3.1.bn3.weight 1024 float32
layer3.1.bn3.bias 1024 float32
layer3.1.bn3.running_mean 1024 float32
layer3.1.bn3.running_var 1024 float32
layer3.1.bn3.num_batches_tracked - int64
layer3.2.conv1.weight 256x1024x1x1 float32
layer3.2.bn1.weight 256 float32
layer3.2.bn1.bias 256 float32
layer3.2.bn1.running_mean 256 float32
layer3.2.bn1.running_var 256 float32
layer3.2.bn1.num_batches_tracked - int64
layer3.2.conv2.weight 256x256x3x3 float32
layer3.2.bn2.weight 256 float32
layer3.2.bn2.bias 256 float32
layer3.2.bn2.running_mean 256 float32
layer3.2.bn2.running_var 256 float32
layer3.2.bn2.num_batches_tracked - int64
layer3.2.conv3.weight 1024x256x1x1 float32
layer3.2.bn3.weight 1024 float32
layer3.2.bn3.bias 1024 float32
layer3.2.bn3.running_mean 1024 float32
layer3.2.bn3.running_var 1024 float32
layer3.2.bn3.num_batches_tracked - int64
layer3.3.conv1.weight 256x1024x1x1 float32
layer3.3.bn1.weight 256 float32
layer3.3.bn1.bias 256 float32
layer3.3.bn1.running_mean 256 float32
layer3.3.bn1.running_var 256 float32
layer3.3.bn1.num_batches_tracked - int64
layer3.3.conv2.weight 256x256x3x3 float32
layer3.3.bn2.weight 256 float32
layer3.3.bn2.bias 256 float32
layer3.3.bn2.running_mean 256 float32
layer3.3.bn2.running_var 256 float32
layer3.3.bn2.num_batches_tracked - int64
layer3.3.conv3.weight 1024x256x1x1 float32
layer3.3.bn3.weight 1024 float32
layer3.3.bn3.bias 1024 float32
layer3.3.bn3.running_mean 1024 float32
layer3.3.bn3.running_var 1024 float32
layer3.3.bn3.num_batches_tracked - int64
layer3.4.conv1.weight 256x1024x1x1 float32
layer3.4.bn1.weight 256 float32
layer3.4.bn1.bias 256 float32
layer3.4.bn1.running_mean 256 float32
layer3.4.bn1.running_var 256 float32
layer3.4.bn1.num_batches_tracked - int64
layer3.4.conv2.weight 256x256x3x3 float32
layer3.4.bn2.weight 256 float32
layer3.4.bn2.bias 256 float32
layer3.4.bn2.running_mean 256 float32
layer3.4.bn2.running_var 256 float32
layer3.4.bn2.num_batches_tracked - int64
layer3.4.conv3.weight 1024x256x1x1 float32
layer3.4.bn3.weight 1024 float32
layer3.4.bn3.bias 1024 float32
layer3.4.bn3.running_mean 1024 float32
layer3.4.bn3.running_var 1024 float32
layer3.4.bn3.num_batches_tracked - int64
layer3.5.conv1.weight 256x1024x1x1 float32
layer3.5.bn1.weight 256 float32
layer3.5.bn1.bias 256 float32
layer3.5.bn1.running_mean 256 float32
layer3.5.bn1.running_var 256 float32
layer3.5.bn1.num_batches_tracked - int64
layer3.5.conv2.weight 256x256x3x3 float32
layer3.5.bn2.weight 256 float32
layer3.5.bn2.bias 256 float32
layer3.5.bn2.running_mean 256 float32
layer3.5.bn2.running_var 256 float32
layer3.5.bn2.num_batches_tracked - int64
layer3.5.conv3.weight 1024x256x1x1 float32
layer3.5.bn3.weight 1024 float32
layer3.5.bn3.bias 1024 float32
layer3.5.bn3.running_mean 1024 float32
layer3.5.bn3.running_var 1024 float32
layer3.5.bn3.num_batches_tracked - int64
layer4.0.conv1.weight 512x1024x1x1 float32
layer4.0.bn1.weight 512 float32
layer4.0.bn1.bias 512 float32
layer4.0.bn1.running_mean 512 float32
layer4.0.bn1.running_var 512 float32
layer4.0.bn1.num_batches_tracked - int64
layer4.0.conv2.weight 512x512x3x3 float32
layer4.0.bn2.weight 512 float32
layer4.0.bn2.bias 512 float32
layer4.0.bn2.running_mean 512 float32
layer4.0.bn2.running_var 512 float32
layer4.0.bn2.num_batches_tracked - int64
layer4.0.conv3.weight 2048x512x1x1 float32
layer4.0.bn3.weight 2048 float32
layer4.0.bn3.bias 2048 float32
layer4.0.bn3.running_mean 2048 float32
layer4.0.bn3.running_var 2048 float32
layer4.0.bn3.num_batches_tracked - int64
layer4.0.downsample.0.weight 2048x1024x1x1 float32
layer4.0.downsample.1.weight 2048 float32
layer4.0.downsample.1.bias 2048 float32
layer4.0.downsample.1.running_mean 2048 float32
layer4.0.downsample.1.running_var 2048 float32
layer4.0.downsample.1.num_batches_tracked - int64
layer4.1.conv1.weight 512x2048x1x1 float32
layer4.1.bn1.weight 512 float32
layer4.1.bn1.bias 512 float32
layer4.1.bn1.running_mean 512 float32
layer4.1.bn1.running_var 512 float32
layer4.1.bn1.num_batches_tracked - int64
layer4.1.conv2.weight 512x512x3x3 float32
layer4.1.bn2.weight 512 float32
layer4.1.bn2.bias 512 float32
layer4.1.bn2.running_mean 512 float32
layer4.1.bn2.running_var 512 float32
layer4.1.bn2.num_batches_tracked - int64
layer4.1.conv3.weight 2048x512x1x1 float32
layer4.1.bn3.weight 2048 float32
layer4.1.bn3.bias 2048 float32
layer4.1.bn3.running_mean 2048 float32
layer4.1.bn3.running_var 2048 float32
layer4.1.bn3.num_batches_tracked - int64
layer4.2.conv1.weight 512x2048x1x1 float32
layer4.2.bn1.weight 512 float32
layer4.2.bn1.bias 512 float32
layer4.2.bn1.running_mean 512 float32
layer4.2.bn1.running_var 512 float32
layer4.2.bn1.num_batches_tracked - int64
layer4.2.conv2.weight 512x512x3x3 float32
layer4.2.bn2.weight 512 float32
layer4.2.bn2.bias 512 float32
layer4.2.bn2.running_mean 512 float32
layer4.2.bn2.running_var 512 float32
layer4.2.bn2.num_batches_tracked - int64
layer4.2.conv3.weight 2048x512x1x1 float32
layer4.2.bn3.weight 2048 float32
layer4.2.bn3.bias 2048 float32
layer4.2.bn3.running_mean 2048 float32
layer4.2.bn3.running_var 2048 float32
layer4.2.bn3.num_batches_tracked - int64
fc.weight 1000x2048 float32
fc.bias 1000 float32
)";

// The same listing for a ptft model, sorted by name (safetensors files are unordered).
std::set<std::string> listing(const torch::nn::Module& m) {
  std::set<std::string> out;
  for (const auto& [name, t] : state_dict(m)) {
    std::string shape;
    for (int64_t d : t.sizes()) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    out.insert(name + " " + (shape.empty() ? "-" : shape) + " " +
               (t.scalar_type() == torch::kLong ? "int64" : t.scalar_type() == torch::kFloat ? "float32" : "other"));
  }
  return out;
}

std::set<std::string> lines(const char* text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

ResNetConfig preset(const std::string& block, std::vector<int64_t> layers) {
  ResNetConfig c;
  c.block = block;
  c.layers = std::move(layers);
  return c;
}

// A small model for fast tests: width 8, one block per stage.
ResNetConfig tiny(const std::string& block = "basic", const std::string& stem = "small") {
  ResNetConfig c;
  c.block = block;
  c.layers = {1, 1, 1, 1};
  c.width = 8;
  c.num_classes = 5;
  c.stem = stem;
  return c;
}

void expect_same_listing(const std::set<std::string>& ours, const std::set<std::string>& expected) {
  for (const auto& e : expected) EXPECT_TRUE(ours.count(e)) << "missing or different: " << e;
  for (const auto& o : ours) EXPECT_TRUE(expected.count(o)) << "not in torchvision: " << o;
}

TEST(ResNet, Resnet18HasTorchvisionNamesShapesAndDtypes) {
  ResNetImpl m(preset("basic", {2, 2, 2, 2}));
  const auto expected = lines(kTorchvisionResnet18);
  ASSERT_EQ(expected.size(), 122u);
  expect_same_listing(listing(m), expected);
  EXPECT_EQ(count_parameters(m, false), 11689512);  // torchvision: sum of numel over parameters()
}

TEST(ResNet, Resnet50HasTorchvisionNamesShapesAndDtypes) {
  ResNetImpl m(preset("bottleneck", {3, 4, 6, 3}));
  const auto expected = lines(kTorchvisionResnet50);
  ASSERT_EQ(expected.size(), 320u);
  expect_same_listing(listing(m), expected);
  EXPECT_EQ(count_parameters(m, false), 25557032);
}

TEST(ResNet, PresetsBuildTheirArchitecture) {
  ::setenv("PTFT_CONFIG_DIR", PTFT_SOURCE_DIR "/configs", 1);
  struct Case {
    std::string preset;
    int64_t params;  // torchvision's, with 1000 classes (resnet-fmnist: 10 classes, width 16)
  };
  for (const auto& tc : std::vector<Case>{
           {"resnet18", 11689512}, {"resnet34", 21797672}, {"resnet50", 25557032}, {"resnet-fmnist", 308538}}) {
    SCOPED_TRACE(tc.preset);
    auto doc = config::Document::from_string("model: {family: resnet, preset: " + tc.preset + "}\n", "run.yaml");
    ModelPtr m = create_model(doc, "model");
    EXPECT_EQ(m->family(), "resnet");
    EXPECT_EQ(count_parameters(*m, false), tc.params);
  }
}

TEST(ResNet, ForwardShapesForBothStemsAndBlocks) {
  torch::manual_seed(0);
  for (const std::string block : {"basic", "bottleneck"})
    for (const std::string stem : {"imagenet", "small"}) {
      SCOPED_TRACE(block + "/" + stem);
      ResNetConfig c = tiny(block, stem);
      c.in_channels = 1;
      ResNetImpl m(c);
      m.eval();
      auto out = m.forward({{"x", torch::randn({3, 1, 28, 28})}});
      ASSERT_TRUE(out.count("logits"));
      EXPECT_EQ(out.at("logits").sizes(), (std::vector<int64_t>{3, 5}));
      EXPECT_EQ(m.fc->weight.size(1), block == "basic" ? 64 : 256);  // width 8 * 2^3 (* 4)
      EXPECT_EQ(m.trunk.conv1->weight.size(2), stem == "imagenet" ? 7 : 3);
    }
}

TEST(ResNet, WrongChannelsIsUserErrorNamingShapes) {
  ResNetImpl m(tiny());
  try {
    m.forward({{"x", torch::randn({2, 1, 16, 16})}});
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("(B, 3, H, W)"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("[2, 1, 16, 16]"), std::string::npos) << e.message();
  }
  EXPECT_THROW(m.forward({{"pixels", torch::zeros({1, 3, 8, 8})}}), InternalError);
}

TEST(ResNet, FlopsMatchTorchvisionsPublishedCounts) {
  // torchvision's model cards: ResNet-18 1.81 GFLOPS, ResNet-50 4.09 GFLOPS at 224 px, counted as
  // multiply-adds; ptft counts 2 FLOPs per multiply-add.
  EXPECT_NEAR(ResNetImpl(preset("basic", {2, 2, 2, 2})).flops_per_unit() / 2e9, 1.81, 0.01);
  EXPECT_NEAR(ResNetImpl(preset("bottleneck", {3, 4, 6, 3})).flops_per_unit() / 2e9, 4.09, 0.01);
  // Small stem, hand count at 8 px: stem 3*8 * 8x8, layer1 2 x (8*8 * 9 * 8x8), layer2 (stride 2,
  // 4x4): 8*16*9 + 16*16*9 + 8*16 (downsample), layer3 (2x2): 16*32*9 + 32*32*9 + 16*32,
  // layer4 (1x1): 32*64*9 + 64*64*9 + 32*64, fc 64*5; all multiply-adds x 2.
  ResNetConfig c = tiny();
  c.image_size = 8;
  const double macs = 27.0 * 8 * 64 + 2 * (8 * 8 * 9) * 64 + (8 * 16 * 9 + 16 * 16 * 9 + 8 * 16) * 16.0 +
                      (16 * 32 * 9 + 32 * 32 * 9 + 16 * 32) * 4.0 + (32 * 64 * 9 + 64 * 64 * 9 + 32 * 64) * 1.0 +
                      64 * 5;
  EXPECT_DOUBLE_EQ(ResNetImpl(c).flops_per_unit(), 2 * macs);
  c.image_size = 0;  // small stem default: 32 px
  ResNetConfig c32 = c;
  c32.image_size = 32;
  EXPECT_DOUBLE_EQ(ResNetImpl(c).flops_per_unit(), ResNetImpl(c32).flops_per_unit());
  // After a forward, per image of the size it saw (the config's image_size is only the default).
  ResNetImpl seen(c);
  seen.eval();
  seen.forward({{"x", torch::zeros({1, 3, 8, 8})}});
  EXPECT_DOUBLE_EQ(seen.flops_per_unit(), 2 * macs);
}

TEST(ResNet, ConvolutionWeightsAreChannelsLastAndCheckpointsRowMajor) {
  // The weights are held in the activations' layout (nn::hold_channels_last); the logical tensors,
  // the checkpoint's bytes and the logits are those of NCHW weights.
  test::TempDir tmp("resnet_cl");
  torch::manual_seed(6);
  ResNetImpl m(tiny("basic"));
  int conv_weights = 0;
  for (const auto& kv : m.named_parameters()) {
    if (kv.value().dim() != 4) continue;
    ++conv_weights;
    EXPECT_TRUE(kv.value().is_contiguous(torch::MemoryFormat::ChannelsLast)) << kv.key();
    if (kv.value().size(1) > 1 && kv.value().size(2) > 1) {  // else both layouts are one
      EXPECT_FALSE(kv.value().is_contiguous()) << kv.key();
    }
  }
  EXPECT_GE(conv_weights, 9);
  save_tensors(tmp.path + "/m.safetensors", state_dict(m));
  const TensorMap saved = load_tensors(tmp.path + "/m.safetensors");
  for (const auto& [name, t] : state_dict(m)) EXPECT_TRUE(torch::equal(saved.at(name), t)) << name;

  ResNetImpl nchw(tiny("basic"));
  load_into(nchw, saved, "m.safetensors");
  for (auto& p : nchw.parameters()) p.set_data(p.contiguous());
  m.eval();
  nchw.eval();
  auto x = torch::randn({2, 3, 16, 16});
  EXPECT_TRUE(torch::allclose(m.forward({{"x", x}}).at("logits"), nchw.forward({{"x", x}}).at("logits"), 1e-5, 1e-5));
}

TEST(ResNet, ParamPlaceAndWeightDecay) {
  ResNetImpl m(preset("bottleneck", {3, 4, 6, 3}));
  EXPECT_EQ(m.num_blocks(), 4);
  std::map<std::string, std::pair<ParamPlace::Kind, int64_t>> expected = {
      {"conv1.weight", {ParamPlace::kEmbedding, -1}},
      {"bn1.weight", {ParamPlace::kEmbedding, -1}},
      {"bn1.bias", {ParamPlace::kEmbedding, -1}},
      {"layer1.0.conv1.weight", {ParamPlace::kBlock, 0}},
      {"layer1.0.downsample.0.weight", {ParamPlace::kBlock, 0}},
      {"layer2.3.bn3.bias", {ParamPlace::kBlock, 1}},
      {"layer3.5.conv2.weight", {ParamPlace::kBlock, 2}},
      {"layer4.0.downsample.1.weight", {ParamPlace::kBlock, 3}},
      {"fc.weight", {ParamPlace::kHead, -1}},
      {"fc.bias", {ParamPlace::kHead, -1}},
  };
  for (const auto& [name, want] : expected) {
    const ParamPlace p = m.param_place(name);
    EXPECT_EQ(p.kind, want.first) << name;
    EXPECT_EQ(p.block, want.second) << name;
    EXPECT_FALSE(p.tied_head) << name;
  }
  // Every parameter has a place; decay on conv and fc weights only.
  for (const auto& p : m.named_parameters()) {
    const std::string& name = p.key();
    const bool decays = !m.no_weight_decay(name, p.value());
    const bool is_weight_matrix = name.find("conv") != std::string::npos || name.find("downsample.0") != std::string::npos ||
                                  name == "fc.weight";
    EXPECT_EQ(decays, is_weight_matrix) << name;
  }
}

TEST(ResNet, FrozenBatchNormKeepsStatisticsWhileTheModelTrains) {
  torch::manual_seed(2);
  ResNetImpl m(tiny());
  m.train();
  const auto x = torch::randn({4, 3, 16, 16}) * 2 + 1;
  m.forward({{"x", x}});  // trainable: statistics move
  EXPECT_EQ(m.trunk.bn1->num_batches_tracked.item<int64_t>(), 1);
  EXPECT_FALSE(torch::allclose(m.trunk.bn1->running_mean, torch::zeros_like(m.trunk.bn1->running_mean)));

  // Freeze everything but fc (what a frozen backbone does): training-mode outputs equal eval ones.
  for (auto& p : m.named_parameters())
    if (p.key().rfind("fc.", 0) != 0) p.value().requires_grad_(false);
  const TensorMap before = state_dict(m);
  std::map<std::string, torch::Tensor> saved;
  for (const auto& [k, v] : before) saved[k] = v.clone();
  auto train_logits = m.forward({{"x", x}}).at("logits");
  for (const auto& [k, v] : state_dict(m)) EXPECT_TRUE(torch::equal(v, saved.at(k))) << k << " changed";
  m.eval();
  EXPECT_TRUE(torch::allclose(train_logits, m.forward({{"x", x}}).at("logits"), 1e-6, 1e-6));

  // Unfreezing layer4 (gradual unfreezing): its BNs track again, the rest stay frozen.
  m.train();
  for (auto& p : m.named_parameters())
    if (p.key().rfind("layer4.", 0) == 0) p.value().requires_grad_(true);
  m.forward({{"x", x}});
  const TensorMap after = state_dict(m);
  EXPECT_EQ(after.at("layer4.0.bn1.num_batches_tracked").item<int64_t>(), 2);
  EXPECT_EQ(after.at("layer3.0.bn1.num_batches_tracked").item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(after.at("layer3.0.bn1.running_var"), saved.at("layer3.0.bn1.running_var")));
}

TEST(ResNet, SetClassesNamesAndReplacesTheHead) {
  torch::manual_seed(3);
  ResNetImpl m(tiny());
  EXPECT_EQ(m.class_names(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  const auto w = m.fc->weight.clone();
  const auto conv_w = m.trunk.conv1->weight.clone();

  // Same count, no new head: names only.
  m.set_classes({"a", "b", "c", "d", "e"}, /*new_head=*/false);
  EXPECT_TRUE(torch::equal(m.fc->weight, w));
  EXPECT_EQ(m.config_json()["id2label"]["4"], "e");
  EXPECT_EQ(m.config_json()["label2id"]["c"], 2);

  // Same count, new head: fresh weights.
  m.set_classes({"a", "b", "c", "d", "e"}, /*new_head=*/true);
  EXPECT_FALSE(torch::equal(m.fc->weight, w));

  // Another count: a head with 3 outputs, registered under "fc" (the state dict sees it).
  m.set_classes({"cat", "dog", "bird"}, /*new_head=*/false);
  EXPECT_EQ(m.config().num_classes, 3);
  EXPECT_EQ(state_dict(m).at("fc.weight").sizes(), (std::vector<int64_t>{3, 64}));
  EXPECT_EQ(m.forward({{"x", torch::randn({2, 3, 16, 16})}}).at("logits").sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(torch::equal(m.trunk.conv1->weight, conv_w));  // the backbone is untouched
  int n_fc = 0;
  for (const auto& p : m.named_parameters()) n_fc += p.key().rfind("fc.", 0) == 0;
  EXPECT_EQ(n_fc, 2);

  // Names come back from config.json.
  ModelPtr m2 = model_from_config_json(m.config_json(), "ckpt/config.json");
  EXPECT_EQ(m2->class_names(), (std::vector<std::string>{"cat", "dog", "bird"}));
  EXPECT_EQ(m2->config_json(), m.config_json());

  EXPECT_THROW(m.set_classes({"x"}, false), UserError);
  try {
    m.set_classes({"x", "y", "x"}, false);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("'x' appears twice"), std::string::npos) << e.message();
  }
}

TEST(ResNet, ConfigJsonHasHuggingFaceNamesAndRoundTrips) {
  ResNetConfig c = tiny("bottleneck", "imagenet");
  c.in_channels = 1;
  c.dropout = 0.2;
  c.image_size = 64;
  ResNetImpl m(c);
  const auto j = m.config_json();
  EXPECT_EQ(j["model_type"], "resnet");
  EXPECT_EQ(j["ptft"]["family"], "resnet");
  EXPECT_EQ(j["layer_type"], "bottleneck");
  EXPECT_EQ(j["depths"], nlohmann::json({1, 1, 1, 1}));
  EXPECT_EQ(j["num_channels"], 1);
  EXPECT_EQ(j["embedding_size"], 8);
  EXPECT_EQ(j["hidden_sizes"], nlohmann::json({32, 64, 128, 256}));
  EXPECT_EQ(j["stem"], "imagenet");
  EXPECT_EQ(j["id2label"].size(), 5u);
  ModelPtr m2 = model_from_config_json(j, "ckpt/config.json");
  auto* r2 = dynamic_cast<ResNetImpl*>(m2.get());
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->config().block, "bottleneck");
  EXPECT_EQ(r2->config().in_channels, 1);
  EXPECT_EQ(r2->config().dropout, 0.2);
  EXPECT_EQ(r2->config().image_size, 64);
  EXPECT_EQ(m2->config_json(), j);
  EXPECT_EQ(listing(*m2), listing(m));

  // YAML section binds back to the same model.
  YAML::Node root;
  root["model"] = m.config_yaml();
  auto doc = config::Document::from_string(config::emit(root), "resolved.yaml");
  EXPECT_EQ(create_model(doc, "model")->config_json(), j);
}

TEST(ResNet, ConfigJsonErrorsNameTheFileAndKey) {
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](nlohmann::json& j) { j["hidden_sizes"] = {64, 128, 256, 512}; }, "hidden_sizes [64,128,256,512] do not follow"},
      {[](nlohmann::json& j) { j["downsample_in_bottleneck"] = true; }, "downsample_in_bottleneck"},
      {[](nlohmann::json& j) { j["hidden_act"] = "gelu"; }, "hidden_act \"gelu\""},
      {[](nlohmann::json& j) { j["layer_type"] = "preactivation"; }, "model.block must be basic or bottleneck"},
      {[](nlohmann::json& j) { j["depths"] = {2, 2, 2}; }, "4 stages, got 3"},
      {[](nlohmann::json& j) { j["id2label"].erase("3"); }, "\"id2label\" has no name for class 3"},
      {[](nlohmann::json& j) { j.erase("id2label"); }, "has no \"id2label\""},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.expected);
    auto j = ResNetImpl(tiny()).config_json();
    tc.edit(j);
    try {
      model_from_config_json(j, "ckpt/config.json");
      FAIL() << "expected UserError";
    } catch (const UserError& e) {
      EXPECT_NE(e.message().find("ckpt/config.json"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(tc.expected), std::string::npos) << e.message();
    }
  }
}

TEST(ResNetConfig, RunConfigErrors) {
  struct Case {
    std::string yaml, expected;
  };
  for (const auto& tc : std::vector<Case>{
           {"model: {family: resnet, blok: basic}\n", "blok"},
           {"model: {family: resnet, stem: tiny}\n", "tiny"},
           {"model: {family: resnet, layers: [2, 0, 2, 2]}\n", "every stage needs at least 1 block, got 0"},
           {"model: {family: resnet, width: 0}\n", "model.width must be > 0, got 0"},
           {"model: {family: resnet, num_classes: 1}\n", "model.num_classes must be >= 2, got 1"},
           {"model: {family: resnet, dropout: 1.5}\n", "model.dropout must be in [0, 1)"},
       }) {
    SCOPED_TRACE(tc.yaml);
    auto doc = config::Document::from_string(tc.yaml, "run.yaml");
    try {
      create_model(doc, "model");
      FAIL() << "expected UserError";
    } catch (const UserError& e) {
      EXPECT_NE(e.message().find(tc.expected), std::string::npos) << e.message();
    }
  }
}

TEST(ResNet, SaveLoadRoundTripGivesIdenticalLogits) {
  test::TempDir tmp("resnet_ckpt");
  torch::manual_seed(4);
  ResNetImpl m(tiny("bottleneck"));
  m.train();
  m.forward({{"x", torch::randn({4, 3, 16, 16})}});  // non-trivial running statistics
  m.set_classes({"a", "b", "c", "d", "e"}, false);
  Checkpoint c;
  c.config = m.config_json();
  c.model = state_dict(m);
  write_checkpoint(tmp.path + "/ckpt", c);

  torch::manual_seed(5);
  Checkpoint r = read_ptft_checkpoint(tmp.path + "/ckpt", false);
  ModelPtr m2 = model_from_config_json(r.config, tmp.path + "/ckpt/config.json");
  load_into(*m2, r.model, tmp.path + "/ckpt/model.safetensors");
  m.eval();
  m2->eval();
  auto x = torch::randn({2, 3, 16, 16});
  EXPECT_TRUE(torch::equal(m.forward({{"x", x}}).at("logits"), m2->forward({{"x", x}}).at("logits")));
  EXPECT_EQ(m2->class_names(), m.class_names());
  EXPECT_EQ(state_dict(*m2).at("bn1.num_batches_tracked").item<int64_t>(), 1);
}

TEST(ResNet, OverfitsOneBatch) {
  // 8 random images with random labels: memorisable only by fitting. Reference: mean
  // cross-entropy below 0.05 within 200 AdamW steps (lr 1e-2), in training mode (batch statistics).
  torch::manual_seed(6);
  auto m = std::make_shared<ResNetImpl>(tiny());
  auto gen = at::detail::createCPUGenerator(7);
  Batch b{{{"x", torch::randn({8, 3, 12, 12}, gen)}, {"y", torch::randint(5, {8}, gen, torch::kLong)}}, 8};
  m->train();
  const test::OverfitResult r = test::overfit_classifier(*m, b, 200, 1e-2, 0.05);
  EXPECT_LT(r.loss, 0.05) << "after " << r.steps << " steps (start " << r.first << ")";
  EXPECT_GT(r.first, 1.0);  // it really had to learn (ln 5 = 1.6)
}

}  // namespace
}  // namespace ptft
