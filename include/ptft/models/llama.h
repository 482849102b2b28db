// ptft/models/llama.h — the Llama family of decoder-only transformers as Hugging Face defines
// them: Llama 2/3 (LlamaForCausalLM), Qwen2/2.5 (Qwen2ForCausalLM), Qwen3 (Qwen3ForCausalLM),
// SmolLM2 and TinyLlama (Llama). Pre-RMSNorm blocks, rotary positions (rope_theta, rope_scaling
// none / linear / llama3), grouped-query attention (num_key_value_heads, head_dim), SwiGLU MLP,
// optional q/k/v bias (Qwen2) and per-head q/k RMSNorm (Qwen3), tied or untied output head.
// Parameter names are HF's (model.embed_tokens, model.layers.N.self_attn.q_proj, ..., lm_head).
//
//   model: {family: llama, preset: llama-tiny}        # or any LlamaConfig key (HF's names)
//   out = llama->forward({{"input_ids", ids}});         // ids (B,T) int64 -> out["logits"] (B,T,V)
//   logits = llama->forward_cached(ids, &caches);       // generation: caches grow by T
#pragma once

#include <memory>

#include "ptft/models/causal_lm.h"
#include "ptft/models/model.h"
#include "ptft/nn/attention.h"
#include "ptft/nn/gated_feed_forward.h"
#include "ptft/nn/rms_norm.h"
#include "ptft/nn/rotary.h"

namespace ptft {

struct LlamaConfig {
  std::string model_type = "llama";        // the HF flavour written on export: llama | qwen2 | qwen3 | mistral
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;               // width C
  int64_t intermediate_size = 11008;        // MLP width I
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 0;          // 0 = num_attention_heads (no GQA)
  int64_t head_dim = 0;                     // 0 = hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;   // context length
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::string rope_type = "default";        // HF rope_scaling: default (none) | linear | llama3
  double rope_factor = 1.0;
  double rope_low_freq_factor = 1.0;
  double rope_high_freq_factor = 4.0;
  int64_t rope_original_max_position_embeddings = 8192;
  bool qkv_bias = false;                    // Qwen2: true; Llama's attention_bias sets it and o_bias
  bool o_bias = false;
  bool mlp_bias = false;
  bool qk_norm = false;                     // Qwen3
  bool tie_word_embeddings = false;
  double initializer_range = 0.02;
  template <class V> void visit(V& v) {
    v.choice("model_type", model_type, {"llama", "qwen2", "qwen3", "mistral"}, "Hugging Face flavour written on export");
    v("vocab_size", vocab_size, "tokens in the vocabulary");
    v("hidden_size", hidden_size, "model width");
    v("intermediate_size", intermediate_size, "MLP width");
    v("num_hidden_layers", num_hidden_layers, "transformer blocks");
    v("num_attention_heads", num_attention_heads, "query heads");
    v("num_key_value_heads", num_key_value_heads, "key/value heads (grouped-query attention); 0 = num_attention_heads");
    v("head_dim", head_dim, "head size; 0 = hidden_size / num_attention_heads");
    v("max_position_embeddings", max_position_embeddings, "context length");
    v("rms_norm_eps", rms_norm_eps, "RMSNorm epsilon");
    v("rope_theta", rope_theta, "rotary base");
    v.choice("rope_type", rope_type, {"default", "linear", "llama3"}, "rotary scaling (HF rope_scaling)");
    v("rope_factor", rope_factor, "rotary scaling factor (linear, llama3)");
    v("rope_low_freq_factor", rope_low_freq_factor, "llama3 scaling: low_freq_factor");
    v("rope_high_freq_factor", rope_high_freq_factor, "llama3 scaling: high_freq_factor");
    v("rope_original_max_position_embeddings", rope_original_max_position_embeddings,
      "llama3 scaling: original_max_position_embeddings");
    v("qkv_bias", qkv_bias, "biases on the q, k and v projections (Qwen2)");
    v("o_bias", o_bias, "bias on the output projection");
    v("mlp_bias", mlp_bias, "biases in the MLP");
    v("qk_norm", qk_norm, "RMSNorm on each head of q and k (Qwen3)");
    v("tie_word_embeddings", tie_word_embeddings, "output head = input embedding");
    v("initializer_range", initializer_range, "init std");
  }
  void validate() const;
  int64_t kv_heads() const { return num_key_value_heads > 0 ? num_key_value_heads : num_attention_heads; }
  int64_t head_size() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
  nn::RopeScaling rope_scaling() const;
};

class LlamaBlockImpl : public torch::nn::Cloneable<LlamaBlockImpl> {
 public:
  LlamaBlockImpl(LlamaConfig cfg, std::shared_ptr<const nn::Rotary> rope);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x, nn::KvCache* cache = nullptr);  // (B,T,C) -> (B,T,C)

  LlamaConfig cfg;
  std::shared_ptr<const nn::Rotary> rope;
  nn::RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  nn::SelfAttention self_attn{nullptr};
  nn::GatedFeedForward mlp{nullptr};
};
TORCH_MODULE(LlamaBlock);

// The "model" trunk, a child module so parameter names carry HF's "model." prefix.
class LlamaTrunkImpl : public torch::nn::Cloneable<LlamaTrunkImpl> {
 public:
  LlamaTrunkImpl(LlamaConfig cfg, std::shared_ptr<const nn::Rotary> rope);
  void reset() override;
  LlamaConfig cfg;
  std::shared_ptr<const nn::Rotary> rope;
  torch::nn::Embedding embed_tokens{nullptr};  // (V, C)
  torch::nn::ModuleList layers{nullptr};       // num_hidden_layers x LlamaBlock
  nn::RmsNorm norm{nullptr};
};
TORCH_MODULE(LlamaTrunk);

class LlamaImpl : public ModelImpl, public CausalLm {
 public:
  explicit LlamaImpl(LlamaConfig cfg);
  std::string family() const override { return "llama"; }
  nlohmann::json config_json() const override;  // HF names of cfg.model_type's config class
  YAML::Node config_yaml() const override;
  TensorMap forward(const TensorMap& batch) override;
  torch::Device weights_device() const override { return model->embed_tokens->weight.device(); }
  double flops_per_unit() const override;  // per token, forward: 2N + attention
  int64_t context_length() const override { return cfg_.max_position_embeddings; }
  int64_t vocab_size() const override { return cfg_.vocab_size; }
  int64_t num_blocks() const override { return cfg_.num_hidden_layers; }
  // embed_tokens: embedding (also the head when tied), layers.N: block N, norm/lm_head: head.
  ParamPlace param_place(const std::string& name) const override;
  const LlamaConfig& config() const { return cfg_; }

  LlamaTrunk model{nullptr};
  nn::Linear lm_head{nullptr};  // (V, C); null when tied

  void hold_decode_weights_bf16() override;

 protected:
  torch::Tensor run_cached(const torch::Tensor& ids, std::vector<nn::KvCache>* caches, bool last_only) override;

 private:
  LlamaConfig cfg_;
};

// config.json in HF names (LlamaConfig / Qwen2Config / Qwen3Config / MistralConfig, by
// model_type) <-> LlamaConfig. The reader refuses what ptft does not compute (other rope types,
// sliding windows, activations other than silu), naming the key and `source`.
LlamaConfig llama_config_from_json(const nlohmann::json& j, const std::string& source);
nlohmann::json llama_config_json(const LlamaConfig& c);  // with "architectures" and HF's keys

ModelFamily llama_family();

}  // namespace ptft
