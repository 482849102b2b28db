#include "ptft/nn/module_path.h"

#include "ptft/core/error.h"

namespace ptft::nn {
namespace {

// The direct child `name` of `m`, or nullptr.
std::shared_ptr<torch::nn::Module> child_of(const torch::nn::Module& m, const std::string& name) {
  for (const auto& c : m.named_children())
    if (c.key() == name) return c.value();
  return nullptr;
}

// Registers `child` as `name` of `parent`; a ModuleDict parent records it as an entry too (its
// clone() copies its entries).
std::shared_ptr<torch::nn::Module> add_child(torch::nn::Module& parent, const std::string& name,
                                             std::shared_ptr<torch::nn::Module> child) {
  if (auto* dict = parent.as<torch::nn::ModuleDictImpl>()) {
    dict->update({{name, child}});
    return child;
  }
  return parent.register_module(name, std::move(child));
}

}  // namespace

std::shared_ptr<torch::nn::Module> register_at(torch::nn::Module& root, const std::string& path,
                                               std::shared_ptr<torch::nn::Module> child) {
  PTFT_CHECK(!path.empty() && path.front() != '.' && path.back() != '.' && path.find("..") == std::string::npos,
             "bad module path '" + path + "'");
  torch::nn::Module* parent = &root;
  size_t begin = 0;
  for (size_t dot = path.find('.'); dot != std::string::npos; begin = dot + 1, dot = path.find('.', begin)) {
    const std::string part = path.substr(begin, dot - begin);
    auto container = child_of(*parent, part);
    if (!container) container = add_child(*parent, part, torch::nn::ModuleDict().ptr());
    PTFT_CHECK(container->as<torch::nn::ModuleDictImpl>() != nullptr,
               "module path '" + path + "': '" + part + "' exists and is not a container");
    parent = container.get();
  }
  return add_child(*parent, path.substr(begin), std::move(child));
}

std::shared_ptr<torch::nn::Module> module_at(const torch::nn::Module& root, const std::string& path) {
  const torch::nn::Module* m = &root;
  std::shared_ptr<torch::nn::Module> found;
  size_t begin = 0;
  while (true) {
    const size_t dot = path.find('.', begin);
    found = child_of(*m, path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (!found) throw InternalError("module '" + root.name() + "' has no module at '" + path + "'");
    if (dot == std::string::npos) return found;
    m = found.get();
    begin = dot + 1;
  }
}

void throw_wrong_module_type(const std::string& path) {
  throw InternalError("the module at '" + path + "' is not of the expected type");
}

}  // namespace ptft::nn
