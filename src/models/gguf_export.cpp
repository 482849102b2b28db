// export --format gguf: the family's Hugging Face view (names, layouts, config.json) mapped to
// llama.cpp's (gguf_arch.cpp), the tokenizer as tokenizer.ggml.* (tokenizer/gguf_vocab.h), each
// tensor converted while it is written (no second copy of the model in memory).
#include <filesystem>

#include "gguf_arch.h"
#include "gguf_hf_view.h"
#include "gguf_layout.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/io/gguf.h"
#include "ptft/models/gguf_model.h"
#include "ptft/tokenizer/gguf_vocab.h"

namespace ptft {
namespace {

using gguf::GgmlType;
using nlohmann::json;

struct Dtype {
  GgmlType type;
  torch::ScalarType scalar;
  uint32_t file_type;  // general.file_type: llama.cpp's LLAMA_FTYPE_ALL_F32 / MOSTLY_F16 / MOSTLY_BF16
};

Dtype parse_dtype(const std::string& name) {
  if (name == "f32") return {GgmlType::F32, torch::kFloat32, 0};
  if (name == "f16") return {GgmlType::F16, torch::kFloat16, 1};
  if (name == "bf16") return {GgmlType::BF16, torch::kBFloat16, 32};
  throw UserError("--dtype '" + name + "' is not a GGUF weight type ptft writes", "use f32, f16 or bf16");
}

// The GGUF name and layout of a Hugging Face tensor name.
std::pair<std::string, gguf_arch::Layout> gguf_name(const gguf_arch::Arch& arch, const std::string& hf_name) {
  std::vector<std::string> captures;
  for (const auto& r : arch.tensors)
    if (match_name(r.hf, hf_name, &captures)) return {fill_name(r.gguf, captures), r.layout};
  throw InternalError("tensor '" + hf_name + "' has no name in GGUF architecture " + arch.name);
}

void add_tensor(gguf::Writer& w, const std::string& name, torch::Tensor t, const Dtype& dtype) {
  const Dtype& d = t.dim() >= 2 ? dtype : parse_dtype("f32");  // norms, biases: f32, as llama.cpp needs
  std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
  w.add_tensor(name, d.type, shape, [t, d](const gguf::Writer::Sink& sink) {
    const torch::Tensor c = t.detach().to(torch::kCPU, d.scalar).contiguous();
    sink(c.data_ptr(), c.numel() * c.element_size());
  });
}

void add_model_tensors(gguf::Writer& w, const gguf_arch::Arch& arch, const TensorMap& hf, const json& config,
                       const Dtype& dtype) {
  for (const auto& [hf_name, t] : hf) {
    const auto [name, layout] = gguf_name(arch, hf_name);
    add_tensor(w, name, gguf_arch::to_gguf_layout(t, layout, config), dtype);
  }
  if (arch.name == "gpt2") add_tensor(w, "output.weight", hf.at("transformer.wte.weight"), dtype);
  const json rs = config.value("rope_scaling", json());
  const std::string rope = rs.is_object() ? rs.value("rope_type", rs.value("type", std::string())) : "";
  if (rope == "llama3") {
    if (arch.name != "llama")
      throw UserError("llama3 rope scaling on a " + arch.name + " model cannot be written to GGUF",
                      "llama.cpp reads rope_freqs for the llama architecture only");
    add_tensor(w, "rope_freqs.weight", gguf_arch::llama3_rope_freqs(config), parse_dtype("f32"));
  }
}

void require_new_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    throw UserError("'" + path + "' exists", "choose another --out (export never overwrites)");
}

// What both exports start from: the model's Hugging Face config and architecture, and a writer
// with the general.* keys of a file of `type` (model | adapter).
struct Start {
  json config;
  const gguf_arch::Arch* arch;
  gguf::Writer w;
};

Start start_file(const ModelImpl& model, const Tokenizer* tok, const std::string& path, const std::string& type,
                 const GgufExportOptions& opt) {
  require_new_file(path);
  Start s{hf_config_of_model(model, tok), nullptr, {}};
  s.arch = &gguf_arch::arch_of_hf(s.config, "the " + model.family() + " model");
  s.w.set("general.architecture", s.arch->name);
  s.w.set("general.type", type);
  if (!opt.name.empty()) s.w.set("general.name", opt.name);
  return s;
}

}  // namespace

void export_gguf(ModelImpl& model, const Tokenizer* tok, const std::string& path, const GgufExportOptions& opt) {
  const Dtype dtype = parse_dtype(opt.dtype);
  const ForeignFormat& hf = hf_format_of(model);
  const TensorMap state = state_dict(model);
  for (const auto& [name, t] : state)
    if (name.find("lora_") != std::string::npos)
      throw UserError("the model has LoRA adapters attached ('" + name + "')",
                      "merge them into the weights: ptft export --format gguf --merge-lora");
  Start s = start_file(model, tok, path, "model", opt);
  const json& config = s.config;
  const gguf_arch::Arch& arch = *s.arch;
  gguf::Writer& w = s.w;
  w.set("general.file_type", dtype.file_type);
  gguf_arch::write_metadata(arch, config, w);
  if (tok) {
    GgufVocab v = gguf_vocab_of(*tok, model.vocab_size());
    if (!opt.chat_template.empty()) v.chat_template = opt.chat_template;
    write_gguf_vocab(v, w);
  }
  w.set("ptft.hf_config", config.dump());  // provenance: the Hugging Face config this file stands for
  add_model_tensors(w, arch, to_foreign(hf.names(model), state), config, dtype);
  w.write(path);
}

void export_gguf_adapter(ModelImpl& model, double lora_alpha, const std::string& path, const GgufExportOptions& opt) {
  const Dtype dtype = parse_dtype(opt.dtype);
    Start s = start_file(model, nullptr, path, "adapter", opt);
  const json& config = s.config;
  const gguf_arch::Arch& arch = *s.arch;
  gguf::Writer& w = s.w;
  w.set("adapter.type", "lora");
  w.set("adapter.lora.alpha", static_cast<float>(lora_alpha));
  const std::string a_suffix = ".lora_A.weight";
  int adapters = 0;
  const TensorMap state = state_dict(model);
  for (const auto& [name, a] : state) {
    if (name.size() <= a_suffix.size() || name.compare(name.size() - a_suffix.size(), a_suffix.size(), a_suffix) != 0) continue;
    const std::string module = name.substr(0, name.size() - a_suffix.size());
    const torch::Tensor b = state.at(module + ".lora_B.weight");
    // ptft's weights are (out, in) as GGUF's are; only the rope row order differs (and applies to
    // B's rows, the output dimension of B A).
    auto [base, layout] = gguf_name(arch, module + ".weight");
    const torch::Tensor b_gguf = layout == gguf_arch::Layout::kTransposed ? b : gguf_arch::to_gguf_layout(b, layout, config);
    add_tensor(w, base + ".lora_a", a, dtype);
    add_tensor(w, base + ".lora_b", b_gguf, dtype);
    ++adapters;
  }
  if (adapters == 0)
    throw UserError("the model has no LoRA adapters", "export the model itself: ptft export --format gguf");
  w.write(path);
}

}  // namespace ptft
