// Reading a GGUF file as the Hugging Face model it stands for (gguf_arch.cpp's tables, backwards);
// models/model_files.cpp then reads that as it reads a Hugging Face directory.
#include <fstream>

#include "gguf_arch.h"
#include "gguf_hf_view.h"
#include "gguf_layout.h"
#include "ptft/core/error.h"
#include "ptft/io/gguf.h"
#include "ptft/nn/linear.h"
#include "ptft/models/gguf_model.h"
#include "ptft/tokenizer/gguf_vocab.h"

namespace ptft {
namespace {

using gguf::GgmlType;
using nlohmann::json;

// The tensor as a torch view of the mapped file (kept alive by the view).
torch::Tensor view_of(const std::shared_ptr<gguf::File>& f, const gguf::TensorInfo& t) {
  torch::ScalarType dtype;
  switch (t.type) {
    case GgmlType::F32: dtype = torch::kFloat32; break;
    case GgmlType::F16: dtype = torch::kFloat16; break;
    case GgmlType::BF16: dtype = torch::kBFloat16; break;
    default:
      throw UserError("GGUF file '" + f->path() + "': tensor '" + t.name + "' is " + gguf::ggml_type_name(t.type) +
                          "; ptft reads only F32, F16 and BF16 tensors (quantised models are for inference in llama.cpp)",
                      "use an unquantised (f32/f16/bf16) GGUF file, or the model's Hugging Face directory");
  }
  void* data = const_cast<uint8_t*>(f->data(t));
  return torch::from_blob(data, t.shape, [f](void*) {}, torch::TensorOptions().dtype(dtype));
}

// gguf_arch::to_hf_layout, with a tensor whose shape the per-head reshape does not allow (keys and
// tensors that disagree) reported as a UserError naming it.
torch::Tensor hf_layout(const torch::Tensor& t, gguf_arch::Layout layout, const json& config, const std::string& path,
                        const std::string& name) {
  try {
    return gguf_arch::to_hf_layout(t, layout, config);
  } catch (const std::exception&) {
    throw UserError("GGUF file '" + path + "': tensor '" + name + "' of shape " + c10::str(t.sizes()) +
                        " does not fit the attention heads the file's keys describe",
                    "the file's keys and tensors disagree: export it again");
  }
}

std::pair<std::string, gguf_arch::Layout> hf_name(const gguf_arch::Arch& arch, const std::string& gguf_name,
                                                  const std::string& path) {
  std::vector<std::string> captures;
  for (const auto& r : arch.tensors)
    if (match_name(r.gguf, gguf_name, &captures)) return {fill_name(r.hf, captures), r.layout};
  throw UserError("GGUF file '" + path + "': tensor '" + gguf_name + "' is not part of a " + arch.name +
                      " model as ptft reads it",
                  "is this file from another architecture or a newer llama.cpp? docs/formats.md lists the tensors");
}

// llama3 rope scaling: llama.cpp keeps only the per-frequency divisors (rope_freqs). The Hugging
// Face parameters come from the config ptft wrote beside them (ptft.hf_config), checked against
// the tensor; other files' parameters cannot be recovered from the divisors alone.
json llama3_scaling(const gguf::File& f, const json& config) {
  const gguf::Value* own = f.find("ptft.hf_config");
  const json written = own ? json::parse(own->get_string(), nullptr, false) : json();
  const json rs = written.is_object() ? written.value("rope_scaling", json()) : json();
  if (!rs.is_object() || rs.value("rope_type", std::string()) != "llama3")
    throw UserError("GGUF file '" + f.path() + "' scales its rotary frequencies with rope_freqs, whose llama3 "
                    "parameters (factor, low/high_freq_factor, original context) ptft cannot recover",
                    "read the model's Hugging Face directory instead");
  json with = config;
  with["rope_scaling"] = rs;
  const torch::Tensor want = gguf_arch::llama3_rope_freqs(with);
  const torch::Tensor have = torch::tensor(f.to_float(f.tensor("rope_freqs.weight")));
  if (have.numel() != want.numel() || !torch::allclose(have, want, 1e-5, 1e-6))
    throw UserError("GGUF file '" + f.path() + "': rope_freqs does not match the llama3 scaling in ptft.hf_config",
                    "the file was changed after ptft wrote it; export it again");
  return rs;
}

// Adds each module's adapter (A (r, in), B (out, r)) to its projection in `model`.
void attach_gguf_adapters(ModelImpl& model, const std::map<std::string, std::pair<torch::Tensor, torch::Tensor>>& adapters,
                          double alpha, const std::string& where) {
  std::map<std::string, nn::LinearImpl*> linears;
  for (const auto& item : model.named_modules("", /*include_self=*/false))
    if (auto* lin = item.value()->as<nn::LinearImpl>()) linears[item.key()] = lin;
  for (const auto& [module, ab] : adapters) {
    const auto& [a, b] = ab;
    auto it = linears.find(module);
    if (it == linears.end())
      throw UserError(where + ": the adapter targets '" + module + "', which this model has no projection for",
                      "use the adapter with the base model it was trained on");
    nn::LinearImpl& lin = *it->second;
    if (!a.defined() || !b.defined() || a.dim() != 2 || b.dim() != 2 || a.size(1) != lin.weight.size(1) ||
        b.size(0) != lin.weight.size(0) || b.size(1) != a.size(0))
      throw UserError(where + ": the adapter of '" + module + "' does not fit its projection (" +
                          std::to_string(lin.weight.size(0)) + " x " + std::to_string(lin.weight.size(1)) + ")",
                      "use the adapter with the base model it was trained on");
    lin.add_lora(a.size(0), alpha, 0.0);
    torch::NoGradGuard ng;
    lin.lora_A->weight.copy_(a);
    lin.lora_B->weight.copy_(b);
  }
}

}  // namespace

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

GgufAsHf read_gguf_as_hf(const std::string& path) {
  const std::shared_ptr<gguf::File> f = gguf::File::open(path);
  const gguf_arch::Arch& arch = gguf_arch::arch_of_gguf(f->get_string("general.architecture"), "GGUF file '" + path + "'");
  GgufAsHf out;
  out.config = gguf_arch::hf_config_of(arch, *f);
  if (f->find_tensor("rope_freqs.weight")) out.config["rope_scaling"] = llama3_scaling(*f, out.config);
  for (const auto& t : f->tensors()) {
    if (t.name == "rope_freqs.weight") continue;
    const auto [name, layout] = hf_name(arch, t.name, path);
    out.tensors.tensors[name] = hf_layout(view_of(f, t), layout, out.config, path, t.name);
    out.tensors.file_of[name] = path;
  }
  return out;
}

void load_gguf_adapter(ModelImpl& model, const std::string& path) {
  const std::shared_ptr<gguf::File> f = gguf::File::open(path);
  const std::string where = "GGUF file '" + path + "'";
  if (!f->find("general.type") || f->get_string("general.type") != "adapter" || f->get_string("adapter.type") != "lora")
    throw UserError(where + " is not a LoRA adapter (general.type adapter, adapter.type lora)",
                    "pass the adapter file that export --format gguf wrote for a LoRA run");
  const json config = hf_config_of_model(model);
  const gguf_arch::Arch& arch = gguf_arch::arch_of_hf(config, "the " + model.family() + " model");
  if (f->get_string("general.architecture") != arch.name)
    throw UserError(where + " adapts a " + f->get_string("general.architecture") + " model, not this " + arch.name + " one",
                    "use the adapter with the base model it was trained on");
  // GGUF "<base>.lora_a" / ".lora_b" -> the module of the base tensor's Hugging Face name.
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> adapters;
  for (const auto& t : f->tensors()) {
    const bool is_a = t.name.size() > 7 && t.name.compare(t.name.size() - 7, 7, ".lora_a") == 0;
    const bool is_b = t.name.size() > 7 && t.name.compare(t.name.size() - 7, 7, ".lora_b") == 0;
    if (!is_a && !is_b) throw UserError(where + ": tensor '" + t.name + "' is not a LoRA tensor (.lora_a / .lora_b)");
    const auto [hf, layout] = hf_name(arch, t.name.substr(0, t.name.size() - 7), path);
    torch::Tensor v = view_of(f, t).to(torch::kFloat32);
    if (is_b && layout != gguf_arch::Layout::kTransposed) v = hf_layout(v, layout, config, path, t.name);
    auto& slot = adapters[hf.substr(0, hf.rfind('.'))];
    (is_a ? slot.first : slot.second) = v;
  }
  const float alpha = f->get_f32("adapter.lora.alpha");
  attach_gguf_adapters(model, adapters, alpha, where);
}

TokenizerPtr read_gguf_tokenizer(const std::string& path) { return tokenizer_from_gguf(*gguf::File::open(path)); }

}  // namespace ptft
