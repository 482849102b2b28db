// ptft/nn/module_path.h — children registered under dotted paths, so that a model's parameter
// names can be a foreign format's nested names (HF BERT: "attention.self.query") without one C++
// class per name part.
//
// The parts before the last are container modules (torch::nn::ModuleDict, created on first use,
// shared by later paths with the same prefix). A module that keeps members pointing at such
// children derives from PathCloneable and re-points them in bind(), so clone() stays a deep copy.
//
//   q = nn::register_at(*this, "self.query", nn::Linear(nn::LinearOptions(C, C)));  // "self" is a ModuleDict
//   auto q2 = nn::module_at<nn::Linear>(*this, "self.query");                        // the same module
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace ptft::nn {

// Registers `child` under `path` ("a.b.c") of `root`, creating the containers "a" and "a.b" that do
// not exist yet; returns `child`. InternalError when a container part exists and is no ModuleDict.
std::shared_ptr<torch::nn::Module> register_at(torch::nn::Module& root, const std::string& path,
                                               std::shared_ptr<torch::nn::Module> child);

template <class Holder>
Holder register_at(torch::nn::Module& root, const std::string& path, Holder child) {
  register_at(root, path, std::static_pointer_cast<torch::nn::Module>(child.ptr()));
  return child;
}

// The module at `path` below `root`; InternalError when there is none.
std::shared_ptr<torch::nn::Module> module_at(const torch::nn::Module& root, const std::string& path);

[[noreturn]] void throw_wrong_module_type(const std::string& path);  // for module_at<Holder>

// The module at `path` as a holder of its type (nn::Linear, torch::nn::LayerNorm, ...);
// InternalError when there is none or it has another type.
template <class Holder>
Holder module_at(const torch::nn::Module& root, const std::string& path) {
  auto m = std::dynamic_pointer_cast<typename Holder::ContainedType>(module_at(root, path));
  if (!m) throw_wrong_module_type(path);
  return Holder(std::move(m));
}

// torch::nn::Cloneable for modules whose members point into path-registered children: Cloneable's
// clone() rebuilds the members in reset() and then replaces the containers' contents by clones, so
// the members would point at the rebuilt (orphaned) modules; Derived::bind() points them again at
// the modules under their paths.
template <class Derived>
class PathCloneable : public torch::nn::Cloneable<Derived> {
 public:
  std::shared_ptr<torch::nn::Module> clone(
      const c10::optional<torch::Device>& device = c10::nullopt) const override {
    auto copy = torch::nn::Cloneable<Derived>::clone(device);
    dynamic_cast<Derived&>(*copy).bind();  // Module is a virtual base: no static_cast
    return copy;
  }
};

}  // namespace ptft::nn
