#include "ptft/io/torchvision_resnet.h"

#include <filesystem>
#include <sstream>

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

}  // namespace

bool is_bare_weights(const std::string& path) {
  std::error_code ec;
  if (sfs::is_regular_file(path, ec)) return sfs::path(path).extension() == ".safetensors";
  return sfs::is_directory(path, ec) && sfs::is_regular_file(path + "/model.safetensors", ec) &&
         !sfs::exists(path + "/config.json", ec);
}

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

Checkpoint read_torchvision_resnet(const std::string& path) {
  std::error_code ec;
  const std::string file = sfs::is_directory(path, ec) ? path + "/model.safetensors" : path;
  TensorMap raw;
  try {
    raw = load_tensors(file);
  } catch (const UserError& e) {
    throw e.with_context("reading ResNet weights");
  }
  if (file != path && !raw.count("conv1.weight"))  // most likely a checkpoint that lost its config
    throw UserError("'" + path + "/config.json' does not exist, and '" + file +
                        "' is not a torchvision/timm ResNet state dict (no tensor 'conv1.weight') whose "
                        "architecture could be inferred",
                    "a checkpoint needs its config.json: restore it, or use another checkpoint");
  const ResNetConfig cfg = infer_resnet_config(raw, file);
  const TensorMap want = state_dict(ResNetImpl(cfg));  // every name, shape and dtype the architecture has

  Checkpoint c;
  c.dir = path;
  std::vector<std::string> missing, bad_shape, unknown;
  for (const auto& [name, w] : want) {
    const torch::Tensor* t = find(raw, name);
    const bool counter = ends_with(name, ".num_batches_tracked");
    if (!t) {
      if (counter) c.model[name] = torch::zeros({}, torch::kLong);
      else missing.push_back(name);
    } else if (!t->sizes().equals(w.sizes())) {
      bad_shape.push_back("'" + name + "' is " + c10::str(t->sizes()) + ", expected " + c10::str(w.sizes()));
    } else if (counter) {
      c.model[name] = t->to(torch::kLong);
    } else if (!t->is_floating_point()) {
      throw UserError("'" + file + "': tensor '" + name + "' has dtype " + std::string(c10::toString(t->scalar_type())) +
                          ", expected a floating-point type",
                      "the weights file is not a ResNet state dict");
    } else {
      c.model[name] = t->to(torch::kFloat32);
    }
  }
  for (const auto& [name, t] : raw)
    if (!want.count(name)) unknown.push_back(name);
  const std::string arch = "inferred: " + cfg.block + " blocks, layers [" + comma_list(cfg.layers) + "], width " +
                           std::to_string(cfg.width) + ", " + cfg.stem + " stem";
  if (!bad_shape.empty())
    throw UserError("'" + file + "': " + std::to_string(bad_shape.size()) + " tensor(s) do not fit the ResNet " + arch +
                        ": " + join_first(bad_shape),
                    "the file mixes architectures, or is not a torchvision/timm ResNet");
  if (!missing.empty())
    throw UserError("'" + file + "' lacks tensor(s) " + join_first(missing) + " (" + arch + ")",
                    "the state dict is incomplete; save the whole model's state_dict()");
  if (!unknown.empty())
    throw UserError("'" + file + "' holds tensor(s) that a torchvision ResNet does not have: " + join_first(unknown) +
                        " (" + arch + ")",
                    "ptft reads plain torchvision/timm ResNets (no extra heads or variants)");

  c.config = resnet_config_json(cfg, default_class_names(cfg.num_classes));
  c.config["ptft"]["task"] = "classification";
  c.config["ptft"]["source"] = "torchvision:" + path;
  return c;
}

void export_torchvision_resnet(ModelImpl& model, const std::string& out_dir) {
  if (model.family() != "resnet")
    throw UserError("cannot export a '" + model.family() + "' model as a torchvision ResNet",
                    "--format torchvision supports ResNet models (family resnet)");
  auto* resnet = dynamic_cast<ResNetImpl*>(&model);
  PTFT_CHECK(resnet != nullptr, "a family-resnet model that is not a ResNetImpl");
  fs::require_new_dir(out_dir, "output directory");
  TensorMap out;
  for (const auto& [name, t] : state_dict(model))
    out[name] = t.detach().to(torch::kCPU, t.scalar_type() == torch::kLong ? torch::kLong : torch::kFloat32);
  const std::string text = readme(resnet->config(), resnet->class_names());
  fs::write_dir_atomic(out_dir, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    save_tensors(tmp + "/model.safetensors", out, {{"format", "pt"}});
    fs::write_file_atomic(tmp + "/README.md", text);
  });
}

}  // namespace ptft
