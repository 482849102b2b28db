// ptft/models/family_section.h — binds a run config's `model:` section onto a family's config
// struct: the shared keys (family, preset) plus the architecture keys of that family.
//
//   MlpConfig cfg = bind_family_section<MlpConfig>(doc, "model");
//   YAML::Node section = family_section_yaml("mlp", cfg);   // what config_yaml() returns
#pragma once

#include <string>

#include "ptft/core/config.h"

namespace ptft {

template <class Arch>
struct FamilySection {
  std::string family;   // registry name
  std::string preset;   // reserved for preset files (configs/<preset>.yaml)
  Arch arch;
  template <class V> void visit(V& v) {
    v("family", family, "model family");
    v("preset", preset, "architecture preset");
    arch.visit(v);
  }
  void validate() const {
    if constexpr (has_validate<Arch>::value) arch.validate();
  }
  template <class T, class = void> struct has_validate : std::false_type {};
  template <class T>
  struct has_validate<T, std::void_t<decltype(std::declval<const T&>().validate())>> : std::true_type {};
};

template <class Arch>
Arch bind_family_section(const config::Document& doc, const std::string& prefix) {
  FamilySection<Arch> section;
  config::bind(doc, section, prefix);
  return section.arch;
}

// The resolved section: {family: <family>} followed by every architecture key of `arch`.
template <class Arch>
YAML::Node family_section_yaml(const std::string& family, const Arch& arch) {
  YAML::Node out;
  out["family"] = family;
  for (const auto& kv : config::to_yaml(arch)) out[kv.first.template as<std::string>()] = kv.second;
  return out;
}

}  // namespace ptft
