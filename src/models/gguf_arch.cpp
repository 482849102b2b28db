// The GGUF architectures ptft writes, as llama.cpp's converter (convert_hf_to_gguf.py) maps the
// Hugging Face models and llama.cpp's loader (llama-model.cpp, llama-arch.cpp) reads them:
//   llama  LlamaForCausalLM (and Mistral): rope type NORM, which rotates neighbouring pairs of
//          dimensions, so q and k rows are permuted per head from HF's rotate_half layout;
//          rope_scaling linear as rope.scaling.*, llama3 as the rope_freqs tensor (per-frequency
//          divisors, written by the exporter)
//   qwen2  Qwen2ForCausalLM: rope type NEOX (rotate_half, as HF): no permutation; q/k/v biases
//   qwen3  Qwen3ForCausalLM: NEOX; per-head q/k RMSNorm (attn_q_norm, attn_k_norm)
//   gpt2   GPT2LMHeadModel: fused attn_qkv; Conv1D weights transposed to (out, in); output.weight
//          written as a copy of token_embd (the converter does so: GPT-2 ties them)
// A tied llama-family head has no output.weight (llama.cpp then uses token_embd).
#include "gguf_arch.h"

#include <cmath>

#include "ptft/core/error.h"

namespace ptft::gguf_arch {
namespace {

using nlohmann::json;

std::vector<TensorRule> llama_like(bool permute_rope) {
  const Layout q = permute_rope ? Layout::kRopeQ : Layout::kSame;
  const Layout k = permute_rope ? Layout::kRopeK : Layout::kSame;
  std::vector<TensorRule> r = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.*.input_layernorm.weight", "blk.*.attn_norm.weight"},
      {"model.layers.*.post_attention_layernorm.weight", "blk.*.ffn_norm.weight"},
      {"model.layers.*.self_attn.q_norm.weight", "blk.*.attn_q_norm.weight"},
      {"model.layers.*.self_attn.k_norm.weight", "blk.*.attn_k_norm.weight"},
  };
  for (const char* p : {"weight", "bias"}) {
    const std::string s = p;
    r.push_back({"model.layers.*.self_attn.q_proj." + s, "blk.*.attn_q." + s, q});
    r.push_back({"model.layers.*.self_attn.k_proj." + s, "blk.*.attn_k." + s, k});
    r.push_back({"model.layers.*.self_attn.v_proj." + s, "blk.*.attn_v." + s});
    r.push_back({"model.layers.*.self_attn.o_proj." + s, "blk.*.attn_output." + s});
    r.push_back({"model.layers.*.mlp.gate_proj." + s, "blk.*.ffn_gate." + s});
    r.push_back({"model.layers.*.mlp.up_proj." + s, "blk.*.ffn_up." + s});
    r.push_back({"model.layers.*.mlp.down_proj." + s, "blk.*.ffn_down." + s});
  }
  return r;
}

std::vector<TensorRule> gpt2_rules() {
  std::vector<TensorRule> r = {
      {"transformer.wte.weight", "token_embd.weight"},
      {"transformer.wpe.weight", "position_embd.weight"},
      {"lm_head.weight", "output.weight"},  // read back as the tied copy it is
  };
  for (const char* p : {"weight", "bias"}) {
    const std::string s = p;
    r.push_back({"transformer.ln_f." + s, "output_norm." + s});
    r.push_back({"transformer.h.*.ln_1." + s, "blk.*.attn_norm." + s});
    r.push_back({"transformer.h.*.ln_2." + s, "blk.*.ffn_norm." + s});
    const Layout conv = s == "weight" ? Layout::kTransposed : Layout::kSame;
    r.push_back({"transformer.h.*.attn.c_attn." + s, "blk.*.attn_qkv." + s, conv});
    r.push_back({"transformer.h.*.attn.c_proj." + s, "blk.*.attn_output." + s, conv});
    r.push_back({"transformer.h.*.mlp.c_fc." + s, "blk.*.ffn_up." + s, conv});
    r.push_back({"transformer.h.*.mlp.c_proj." + s, "blk.*.ffn_down." + s, conv});
  }
  return r;
}

const std::vector<Arch>& arches() {
  static const std::vector<Arch> a = {
      {"llama", llama_like(true)}, {"qwen2", llama_like(false)}, {"qwen3", llama_like(false)}, {"gpt2", gpt2_rules()}};
  return a;
}

const Arch& named(const std::string& name) {
  for (const auto& a : arches())
    if (a.name == name) return a;
  throw InternalError("no GGUF architecture '" + name + "'");
}

int64_t head_dim_of(const json& c) {
  if (c.contains("head_dim") && c["head_dim"].is_number_integer()) return c["head_dim"].get<int64_t>();
  return c.at("hidden_size").get<int64_t>() / c.at("num_attention_heads").get<int64_t>();
}

uint32_t u32(const json& c, const char* key) { return static_cast<uint32_t>(c.at(key).get<int64_t>()); }
float f32(const json& c, const char* key) { return static_cast<float>(c.at(key).get<double>()); }

void write_llama_metadata(const std::string& arch, const json& c, gguf::Writer& w) {
  const std::string p = arch + ".";
  w.set(p + "vocab_size", u32(c, "vocab_size"));
  w.set(p + "context_length", u32(c, "max_position_embeddings"));
  w.set(p + "embedding_length", u32(c, "hidden_size"));
  w.set(p + "block_count", u32(c, "num_hidden_layers"));
  w.set(p + "feed_forward_length", u32(c, "intermediate_size"));
  w.set(p + "attention.head_count", u32(c, "num_attention_heads"));
  const json kv = c.value("num_key_value_heads", json());
  w.set(p + "attention.head_count_kv", kv.is_number_integer() ? static_cast<uint32_t>(kv.get<int64_t>()) : u32(c, "num_attention_heads"));
  w.set(p + "attention.layer_norm_rms_epsilon", f32(c, "rms_norm_eps"));
  w.set(p + "rope.freq_base", f32(c, "rope_theta"));
  const auto hd = static_cast<uint32_t>(head_dim_of(c));
  w.set(p + "rope.dimension_count", hd);
  w.set(p + "attention.key_length", hd);
  w.set(p + "attention.value_length", hd);
  const json rs = c.value("rope_scaling", json());
  if (rs.is_object() && rs.value("rope_type", rs.value("type", std::string())) == "linear") {
    w.set(p + "rope.scaling.type", "linear");
    w.set(p + "rope.scaling.factor", static_cast<float>(rs.at("factor").get<double>()));
  }
}

void write_gpt2_metadata(const json& c, gguf::Writer& w) {
  const int64_t C = c.at("n_embd").get<int64_t>();
  const json inner = c.value("n_inner", json());
  w.set("gpt2.vocab_size", u32(c, "vocab_size"));
  w.set("gpt2.context_length", u32(c, "n_positions"));
  w.set("gpt2.embedding_length", static_cast<uint32_t>(C));
  w.set("gpt2.block_count", u32(c, "n_layer"));
  w.set("gpt2.feed_forward_length", static_cast<uint32_t>(inner.is_number_integer() ? inner.get<int64_t>() : 4 * C));
  w.set("gpt2.attention.head_count", u32(c, "n_head"));
  w.set("gpt2.attention.layer_norm_epsilon", f32(c, "layer_norm_epsilon"));
}

json llama_config_of(const std::string& arch, const gguf::File& f) {
  const std::string p = arch + ".";
  const auto& q = f.tensor("blk.0.attn_q.weight");
  const int64_t heads = static_cast<int64_t>(f.get_unsigned(p + "attention.head_count"));
  if (heads <= 0 || q.shape.at(0) % heads != 0)
    throw UserError("GGUF file '" + f.path() + "': " + p + "attention.head_count " + std::to_string(heads) +
                        " does not divide the " + std::to_string(q.shape.at(0)) + " rows of blk.0.attn_q.weight",
                    "the file's keys and tensors disagree: export it again");
  json c = {{"model_type", arch},
            {"architectures", {arch == "llama" ? "LlamaForCausalLM" : arch == "qwen2" ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM"}},
            {"vocab_size", f.tensor("token_embd.weight").shape.at(0)},
            {"hidden_size", f.get_unsigned(p + "embedding_length")},
            {"intermediate_size", f.get_unsigned(p + "feed_forward_length")},
            {"num_hidden_layers", f.get_unsigned(p + "block_count")},
            {"num_attention_heads", heads},
            {"num_key_value_heads", f.find(p + "attention.head_count_kv") ? f.get_unsigned(p + "attention.head_count_kv") : heads},
            {"head_dim", q.shape.at(0) / heads},
            {"max_position_embeddings", f.get_unsigned(p + "context_length")},
            {"rms_norm_eps", f.get_f32(p + "attention.layer_norm_rms_epsilon")},
            {"rope_theta", f.find(p + "rope.freq_base") ? f.get_f32(p + "rope.freq_base") : 10000.0f},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", f.find_tensor("output.weight") == nullptr},
            {"rope_scaling", nullptr}};
  if (arch == "llama") {
    c["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
    c["mlp_bias"] = f.find_tensor("blk.0.ffn_gate.bias") != nullptr;
  }
  if (const auto* type = f.find(p + "rope.scaling.type"); type && type->get_string() == "linear")
    c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", f.get_f32(p + "rope.scaling.factor")}};
  return c;
}

json gpt2_config_of(const gguf::File& f) {
  return {{"model_type", "gpt2"},
          {"architectures", {"GPT2LMHeadModel"}},
          {"vocab_size", f.tensor("token_embd.weight").shape.at(0)},
          {"n_positions", f.get_unsigned("gpt2.context_length")},
          {"n_embd", f.get_unsigned("gpt2.embedding_length")},
          {"n_layer", f.get_unsigned("gpt2.block_count")},
          {"n_head", f.get_unsigned("gpt2.attention.head_count")},
          {"n_inner", f.get_unsigned("gpt2.feed_forward_length")},
          {"layer_norm_epsilon", f.get_f32("gpt2.attention.layer_norm_epsilon")}};
}

}  // namespace

const Arch& arch_of_hf(const json& hf_config, const std::string& where) {
  const std::string type = hf_config.value("model_type", std::string());
  if (type == "llama" || type == "mistral") return named("llama");
  if (type == "qwen2" || type == "qwen3" || type == "gpt2") return named(type);
  throw UserError(where + ": a '" + type + "' model has no GGUF form ptft writes",
                  "GGUF export covers the causal language models llama.cpp runs: gpt2 and the llama family "
                  "(llama, qwen2, qwen3, mistral)");
}

const Arch& arch_of_gguf(const std::string& name, const std::string& where) {
  for (const auto& a : arches())
    if (a.name == name) return a;
  throw UserError(where + ": general.architecture '" + name + "' is not one ptft reads",
                  "ptft reads GGUF architectures llama, qwen2, qwen3 and gpt2 (unquantised)");
}

void write_metadata(const Arch& a, const json& hf_config, gguf::Writer& w) {
  if (a.name == "gpt2") write_gpt2_metadata(hf_config, w);
  else write_llama_metadata(a.name, hf_config, w);
}

json hf_config_of(const Arch& a, const gguf::File& f) {
  return a.name == "gpt2" ? gpt2_config_of(f) : llama_config_of(a.name, f);
}

std::pair<int64_t, int64_t> rope_heads(const json& c, Layout layout) {
  const int64_t heads = c.at("num_attention_heads").get<int64_t>();
  const json kv = c.value("num_key_value_heads", json());
  const int64_t n = layout == Layout::kRopeK && kv.is_number_integer() ? kv.get<int64_t>() : heads;
  return {n, head_dim_of(c)};
}

}  // namespace ptft::gguf_arch
