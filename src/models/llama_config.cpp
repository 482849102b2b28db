// LlamaConfig <-> config.json in Hugging Face's names. One struct serves four HF config classes;
// model_type says which, and which of the optional parts it implies:
//   llama    LlamaConfig    attention_bias (q, k, v and o), mlp_bias, head_dim
//   qwen2    Qwen2Config    q/k/v bias always, o never; head_dim = hidden / heads
//   qwen3    Qwen3Config    q_norm/k_norm always, attention_bias, head_dim (default 128)
//   mistral  MistralConfig  no biases, head_dim; sliding_window must be off
#include <cmath>

#include "ptft/core/error.h"
#include "ptft/core/log.h"
#include "ptft/models/llama.h"

namespace ptft {

namespace {

// The transformers release whose config layout we write (Qwen3 needs >= 4.51).
constexpr const char* kTransformersVersion = "4.51.0";

std::string architecture_of(const std::string& model_type) {
  if (model_type == "qwen2") return "Qwen2ForCausalLM";
  if (model_type == "qwen3") return "Qwen3ForCausalLM";
  if (model_type == "mistral") return "MistralForCausalLM";
  return "LlamaForCausalLM";
}

nlohmann::json rope_scaling_json(const LlamaConfig& c) {
  if (c.rope_type == "default") return nullptr;
  nlohmann::json r = {{"rope_type", c.rope_type}, {"factor", c.rope_factor}};
  if (c.rope_type == "llama3") {
    r["low_freq_factor"] = c.rope_low_freq_factor;
    r["high_freq_factor"] = c.rope_high_freq_factor;
    r["original_max_position_embeddings"] = c.rope_original_max_position_embeddings;
  }
  return r;
}

template <class T>
T get_or(const nlohmann::json& j, const char* key, T fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  return j[key].get<T>();
}

void read_rope_scaling(const nlohmann::json& j, LlamaConfig& c, const std::string& source) {
  if (!j.contains("rope_scaling") || j["rope_scaling"].is_null()) return;
  const nlohmann::json& r = j["rope_scaling"];
  if (!r.is_object())
    throw UserError("'" + source + "': rope_scaling must be an object or null, got " + r.dump());
  c.rope_type = r.contains("rope_type") ? r["rope_type"].get<std::string>() : get_or<std::string>(r, "type", "default");
  if (c.rope_type != "default" && c.rope_type != "linear" && c.rope_type != "llama3")
    throw UserError("'" + source + "': rope_scaling type \"" + c.rope_type + "\" is not supported",
                    "ptft computes rope_scaling null, \"linear\" and \"llama3\"; other types would give other "
                    "outputs than the model was trained with");
  c.rope_factor = get_or(r, "factor", 1.0);
  c.rope_low_freq_factor = get_or(r, "low_freq_factor", 1.0);
  c.rope_high_freq_factor = get_or(r, "high_freq_factor", 4.0);
  c.rope_original_max_position_embeddings = get_or<int64_t>(r, "original_max_position_embeddings", 8192);
}

// What each flavour fixes about biases and norms, from its config keys.
void read_flavour(const nlohmann::json& j, LlamaConfig& c, const std::string& source) {
  auto refuse_window = [&](const char* flag_key) {
    const bool flagged = flag_key ? get_or(j, flag_key, false) : true;
    const int64_t window = get_or<int64_t>(j, "sliding_window", 0);
    if (flagged && window > 0 && window < c.max_position_embeddings)
      throw UserError("'" + source + "': sliding-window attention (sliding_window " + std::to_string(window) +
                          ") is not supported",
                      "ptft attends over the whole context; set sliding_window to null if the model was trained "
                      "without it");
  };
  if (c.model_type == "llama") {
    c.qkv_bias = c.o_bias = get_or(j, "attention_bias", false);
    c.mlp_bias = get_or(j, "mlp_bias", false);
    c.head_dim = get_or<int64_t>(j, "head_dim", 0);
  } else if (c.model_type == "qwen2") {
    c.qkv_bias = true;
    refuse_window("use_sliding_window");
  } else if (c.model_type == "qwen3") {
    c.qk_norm = true;
    c.qkv_bias = c.o_bias = get_or(j, "attention_bias", false);
    c.head_dim = get_or<int64_t>(j, "head_dim", 128);
    refuse_window("use_sliding_window");
  } else {  // mistral
    c.head_dim = get_or<int64_t>(j, "head_dim", 0);
    refuse_window(nullptr);
  }
  if (c.head_dim == c.hidden_size / std::max<int64_t>(c.num_attention_heads, 1) &&
      c.hidden_size % std::max<int64_t>(c.num_attention_heads, 1) == 0)
    c.head_dim = 0;  // the default: written as such
}

}  // namespace

LlamaConfig llama_config_from_json(const nlohmann::json& j, const std::string& source) {
  LlamaConfig c;
  c.model_type = get_or<std::string>(j, "model_type", "llama");
  if (c.model_type != "llama" && c.model_type != "qwen2" && c.model_type != "qwen3" && c.model_type != "mistral")
    throw UserError("'" + source + "': model_type \"" + c.model_type + "\" is not of the llama family",
                    "the llama family reads model_type llama, qwen2, qwen3 and mistral");
  const std::string act = get_or<std::string>(j, "hidden_act", "silu");
  if (act != "silu")
    throw UserError("'" + source + "': hidden_act \"" + act + "\" is not supported", "the llama family's MLP is SwiGLU (silu)");
  c.vocab_size = j.at("vocab_size").get<int64_t>();
  c.hidden_size = j.at("hidden_size").get<int64_t>();
  c.intermediate_size = j.at("intermediate_size").get<int64_t>();
  c.num_hidden_layers = j.at("num_hidden_layers").get<int64_t>();
  c.num_attention_heads = j.at("num_attention_heads").get<int64_t>();
  c.num_key_value_heads = get_or<int64_t>(j, "num_key_value_heads", 0);
  if (c.num_key_value_heads == c.num_attention_heads) c.num_key_value_heads = 0;
  c.max_position_embeddings = get_or<int64_t>(j, "max_position_embeddings", 2048);
  c.rms_norm_eps = get_or(j, "rms_norm_eps", 1e-6);
  c.rope_theta = get_or(j, "rope_theta", 10000.0);
  c.tie_word_embeddings = get_or(j, "tie_word_embeddings", false);
  c.initializer_range = get_or(j, "initializer_range", 0.02);
  if (get_or<int64_t>(j, "pretraining_tp", 1) != 1)
    log_info("note: '" + source + "': pretraining_tp is ignored (it only splits matmuls; the outputs agree)");
  read_rope_scaling(j, c, source);
  read_flavour(j, c, source);
  try {
    c.validate();
  } catch (const UserError& e) {
    throw e.with_context(source);
  }
  return c;
}

nlohmann::json llama_config_json(const LlamaConfig& c) {
  nlohmann::json j = {{"model_type", c.model_type},
                      {"architectures", {architecture_of(c.model_type)}},
                      {"ptft", {{"family", "llama"}}},
                      {"vocab_size", c.vocab_size},
                      {"hidden_size", c.hidden_size},
                      {"intermediate_size", c.intermediate_size},
                      {"num_hidden_layers", c.num_hidden_layers},
                      {"num_attention_heads", c.num_attention_heads},
                      {"num_key_value_heads", c.kv_heads()},
                      {"head_dim", c.head_size()},
                      {"hidden_act", "silu"},
                      {"max_position_embeddings", c.max_position_embeddings},
                      {"rms_norm_eps", c.rms_norm_eps},
                      {"rope_theta", c.rope_theta},
                      {"rope_scaling", rope_scaling_json(c)},
                      {"tie_word_embeddings", c.tie_word_embeddings},
                      {"initializer_range", c.initializer_range},
                      {"attention_dropout", 0.0},
                      {"use_cache", true},
                      {"transformers_version", kTransformersVersion}};
  if (c.model_type == "llama") {
    j["attention_bias"] = c.o_bias;
    j["mlp_bias"] = c.mlp_bias;
    j["pretraining_tp"] = 1;
  } else if (c.model_type == "qwen2") {
    j.erase("head_dim");  // Qwen2 derives it
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = c.num_hidden_layers;
  } else if (c.model_type == "qwen3") {
    j["attention_bias"] = c.o_bias;
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = c.num_hidden_layers;
  } else {
    j["sliding_window"] = nullptr;
  }
  return j;
}

}  // namespace ptft
