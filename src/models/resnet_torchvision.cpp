// torchvision/timm ResNet state dicts as safetensors (the resnet family's "torchvision" format):
// bare weights are a `.safetensors` file, or a directory holding model.safetensors and no
// config.json (e.g. `safetensors.torch.save_file(torchvision.models.resnet50(weights=...)
// .state_dict(), "r50.safetensors")`; timm's ResNets use the same names, which are ptft's). The
// architecture comes from the tensors (models/resnet_torchvision.h); every other tensor must then be
// exactly what that architecture has; a missing num_batches_tracked (some exporters drop it) is
// set to 0. Export writes model.safetensors with exactly torchvision's keys and a README.md naming
// the architecture, the classes and how to load the file into torchvision.
#include "ptft/models/resnet_torchvision.h"

#include <filesystem>
#include <sstream>

#include "family_formats.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/class_names.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "2, 2, 2, 2"
std::string comma_list(const std::vector<int64_t>& v) {
  std::string s;
  for (auto n : v) s += (s.empty() ? "" : ", ") + std::to_string(n);
  return s;
}

const torch::Tensor* find(const TensorMap& t, const std::string& name) {
  auto it = t.find(name);
  return it == t.end() ? nullptr : &it->second;
}

// The torchvision.models constructor that builds `c` (empty when only a hand-built ResNet can).
std::string torchvision_constructor(const ResNetConfig& c) {
  const std::string k = "num_classes=" + std::to_string(c.num_classes);
  if (c.width != 64) return {};
  const std::map<std::pair<std::string, std::vector<int64_t>>, std::string> named = {
      {{"basic", {2, 2, 2, 2}}, "resnet18"},        {{"basic", {3, 4, 6, 3}}, "resnet34"},
      {{"bottleneck", {3, 4, 6, 3}}, "resnet50"},   {{"bottleneck", {3, 4, 23, 3}}, "resnet101"},
      {{"bottleneck", {3, 8, 36, 3}}, "resnet152"},
  };
  auto it = named.find({c.block, c.layers});
  if (it != named.end()) return "torchvision.models." + it->second + "(" + k + ")";
  return std::string("torchvision.models.resnet.ResNet(torchvision.models.resnet.") +
         (c.bottleneck() ? "Bottleneck" : "BasicBlock") + ", [" + comma_list(c.layers) + "], " + k + ")";
}

std::string readme(const ResNetConfig& c, const std::vector<std::string>& classes) {
  std::ostringstream o;
  o << "# ResNet weights in torchvision's layout\n\n"
    << "Written by `ptft export --format torchvision`. `model.safetensors` holds exactly the state dict of\n"
    << "torchvision's ResNet (conv1, bn1, layer1..layer4, fc; BatchNorm running statistics and\n"
    << "num_batches_tracked as int64).\n\n"
    << "Architecture: block " << c.block << ", layers [" << comma_list(c.layers) << "], width " << c.width << ", in_channels "
    << c.in_channels << ", stem " << c.stem << ", num_classes " << c.num_classes;
  if (c.dropout > 0) o << " (ptft trained with dropout " << c.dropout << " before fc; inference has none)";
  o << ".\n\nClasses (output index: name):\n\n";
  for (size_t i = 0; i < classes.size(); ++i) o << "    " << i << ": " << classes[i] << "\n";
  o << "\nThe model starts at conv1: feed images preprocessed as for training (size, normalisation).\n\n";
  const std::string ctor = torchvision_constructor(c);
  if (ctor.empty()) {
    o << "torchvision's ResNet class fixes the stage widths at 64, 128, 256, 512; this model's width is " << c.width
      << ", so it loads only into a ResNet built with those widths. ptft reads it back directly:\n"
      << "`ptft export --model model.safetensors --format ptft --out DIR` (the architecture is inferred).\n";
    return o.str();
  }
  o << "Load it in PyTorch:\n\n"
    << "    import torch, torchvision\n"
    << "    from safetensors.torch import load_file\n"
    << "    m = " << ctor << "\n";
  if (c.stem == "small")
    o << "    m.conv1 = torch.nn.Conv2d(" << c.in_channels << ", 64, 3, 1, 1, bias=False)  # small stem: 3x3/1\n"
      << "    m.maxpool = torch.nn.Identity()                                      # and no max-pool\n";
  else if (c.in_channels != 3)
    o << "    m.conv1 = torch.nn.Conv2d(" << c.in_channels << ", 64, 7, 2, 3, bias=False)\n";
  o << "    m.load_state_dict(load_file(\"model.safetensors\"))\n"
    << "    m.eval()\n";
  return o.str();
}

const ResNetImpl& resnet_of(const ModelImpl& model) {
  const auto* resnet = dynamic_cast<const ResNetImpl*>(&model);
  PTFT_CHECK(resnet != nullptr, "a family-resnet model that is not a ResNetImpl");
  return *resnet;
}

std::string arch_words(const ResNetConfig& cfg) {
  return "inferred: " + cfg.block + " blocks, layers [" + comma_list(cfg.layers) + "], width " +
         std::to_string(cfg.width) + ", " + cfg.stem + " stem";
}

nlohmann::json read_config(const ForeignSource& src) {
  std::error_code ec;
  const bool dir = sfs::is_directory(src.path, ec);
  const std::string file = dir ? src.path + "/model.safetensors" : src.path;
  if (dir && !src.tensors->tensors.count("conv1.weight"))  // most likely a checkpoint that lost its config
    throw UserError("'" + src.path + "/config.json' does not exist, and '" + file +
                        "' is not a torchvision/timm ResNet state dict (no tensor 'conv1.weight') whose "
                        "architecture could be inferred",
                    "a checkpoint needs its config.json: restore it, or use another checkpoint");
  const ResNetConfig cfg = infer_resnet_config(src.tensors->tensors, file);
  nlohmann::json c = resnet_config_json(cfg, default_class_names(cfg.num_classes));
  c["ptft"]["task"] = "classification";
  return c;
}

NameMap names(const ModelImpl& model) {
  const std::string arch = arch_words(resnet_of(model).config());
  NameMap m;
  m.rules = {{"**.num_batches_tracked", {}, false, Presence::kDefaulted}};
  m.model = "a torchvision ResNet (" + arch + ")";
  m.architecture = "the ResNet " + arch;
  m.shape_hint = "the file mixes architectures, or is not a torchvision/timm ResNet";
  m.dtype_hint = "the weights file is not a ResNet state dict";
  m.missing_hint = "the state dict is incomplete; save the whole model's state_dict() (" + arch + ")";
  m.unknown_hint = "ptft reads plain torchvision/timm ResNets (no extra heads or variants)";
  return m;
}

void write_files(const ModelImpl& model, const Tokenizer* /*tok*/, const std::string& dir) {
  const ResNetImpl& resnet = resnet_of(model);
  fs::write_file_atomic(dir + "/README.md", readme(resnet.config(), resnet.class_names()));
}

}  // namespace

ResNetConfig infer_resnet_config(const TensorMap& tensors, const std::string& source) {
  const torch::Tensor* conv1 = find(tensors, "conv1.weight");
  if (!conv1) {
    std::string hint = "ptft infers the architecture of bare safetensors weights only for torchvision/timm "
                       "ResNets; other models need their config.json next to model.safetensors";
    for (const auto& [name, t] : tensors)
      if (ends_with(name, ".conv1.weight") && name.find("layer") == std::string::npos) {
        hint = "the names carry a prefix ('" + name.substr(0, name.size() - 12) +
               "'): save the bare model's state_dict (e.g. model.module.state_dict() under DataParallel)";
        break;
      }
    throw UserError("'" + source + "' holds no tensor 'conv1.weight': not a torchvision/timm ResNet state dict", hint);
  }
  if (conv1->dim() != 4 || conv1->size(2) != conv1->size(3) || (conv1->size(2) != 7 && conv1->size(2) != 3))
    throw UserError("'" + source + "': tensor 'conv1.weight' is " + c10::str(conv1->sizes()) +
                        ", expected (width, in_channels, 7, 7) (imagenet stem) or (width, in_channels, 3, 3) (small stem)",
                    "is this a ResNet's state dict?");
  ResNetConfig c;
  c.width = conv1->size(0);
  c.in_channels = conv1->size(1);
  c.stem = conv1->size(2) == 7 ? "imagenet" : "small";
  c.block = find(tensors, "layer1.0.conv3.weight") ? "bottleneck" : "basic";
  c.layers.clear();
  for (int k = 1; k <= 4; ++k) {
    const std::string stage = "layer" + std::to_string(k) + ".";
    int64_t n = 0;
    while (find(tensors, stage + std::to_string(n) + ".conv1.weight")) ++n;
    if (n == 0)
      throw UserError("'" + source + "' has no tensor '" + stage + "0.conv1.weight'",
                      "a torchvision ResNet has four stages layer1..layer4");
    c.layers.push_back(n);
  }
  const torch::Tensor* fc = find(tensors, "fc.weight");
  if (!fc || fc->dim() != 2)
    throw UserError("'" + source + "' " + (fc ? "has 'fc.weight' of shape " + c10::str(fc->sizes()) + ", expected (num_classes, features)"
                                               : std::string("has no tensor 'fc.weight'")),
                    "ptft reads ResNet classifiers with torchvision's fc head (timm's ResNets use the same names)");
  c.num_classes = fc->size(0);
  try {
    c.validate();
  } catch (const UserError& e) {
    throw e.with_context(source);
  }
  return c;
}

ForeignFormat resnet_torchvision_format() {
  ForeignFormat f;
  f.name = "torchvision";
  f.summary = "a torchvision ResNet state dict as model.safetensors";
  f.source_tag = "torchvision";
  f.reads_bare_weights = true;
  f.read_config = read_config;
  f.names = names;
  f.write_files = write_files;
  return f;
}

}  // namespace ptft
