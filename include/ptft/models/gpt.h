// ptft/models/gpt.h — GPT-2, exactly: learned positions, pre-LayerNorm blocks, GELU (tanh
// approximation), tied input/output embeddings, LayerNorm eps 1e-5. Parameter names follow
// Hugging Face's GPT2LMHeadModel (transformer.wte, transformer.h.N.attn.c_attn, ...), with
// weights in torch (out, in) layout (HF's Conv1D stores (in, out); import/export transpose).
//
//   model: {family: gpt, preset: gpt-tiny}      # or any GptConfig key
//   out = gpt->forward({{"input_ids", ids}});    // ids: (B,T) int64 -> out["logits"]: (B,T,V)
//   logits = gpt->forward_cached(ids, caches);   // generation: caches grow by T
#pragma once

#include "ptft/models/causal_lm.h"
#include "ptft/models/model.h"
#include "ptft/nn/attention.h"
#include "ptft/nn/feed_forward.h"

namespace ptft {

struct GptConfig {
  int64_t vocab_size = 50257;        // tokens (GPT-2: 50257)
  int64_t n_positions = 1024;        // context length
  int64_t n_embd = 768;              // width C
  int64_t n_layer = 12;              // blocks
  int64_t n_head = 12;               // attention heads (C % n_head == 0)
  int64_t n_inner = 0;               // MLP width; 0 = 4 * n_embd
  double embd_pdrop = 0.0;           // dropout on embeddings
  double attn_pdrop = 0.0;           // dropout on attention weights
  double resid_pdrop = 0.0;          // dropout on residual branches
  double layer_norm_epsilon = 1e-5;  // LayerNorm eps
  double initializer_range = 0.02;   // std of the normal init
  template <class V> void visit(V& v) {
    v("vocab_size", vocab_size, "tokens in the vocabulary");
    v("n_positions", n_positions, "context length");
    v("n_embd", n_embd, "model width");
    v("n_layer", n_layer, "transformer blocks");
    v("n_head", n_head, "attention heads");
    v("n_inner", n_inner, "MLP width; 0 = 4 * n_embd");
    v("embd_pdrop", embd_pdrop, "embedding dropout");
    v("attn_pdrop", attn_pdrop, "attention dropout");
    v("resid_pdrop", resid_pdrop, "residual dropout");
    v("layer_norm_epsilon", layer_norm_epsilon, "LayerNorm epsilon");
    v("initializer_range", initializer_range, "init std");
  }
  void validate() const;
  int64_t inner() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
};

class GptBlockImpl : public torch::nn::Cloneable<GptBlockImpl> {
 public:
  explicit GptBlockImpl(GptConfig cfg);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x, nn::KvCache* cache = nullptr);  // (B,T,C) -> (B,T,C)

  GptConfig cfg;
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  nn::SelfAttention attn{nullptr};
  nn::FeedForward mlp{nullptr};
};
TORCH_MODULE(GptBlock);

// The "transformer" trunk, a child module so parameter names carry HF's "transformer." prefix.
class GptTrunkImpl : public torch::nn::Cloneable<GptTrunkImpl> {
 public:
  explicit GptTrunkImpl(GptConfig cfg);
  void reset() override;
  GptConfig cfg;
  torch::nn::Embedding wte{nullptr};  // (V, C)
  torch::nn::Embedding wpe{nullptr};  // (n_positions, C)
  torch::nn::ModuleList h{nullptr};   // n_layer x GptBlock
  torch::nn::LayerNorm ln_f{nullptr};
};
TORCH_MODULE(GptTrunk);

class GptImpl : public ModelImpl, public CausalLm {
 public:
  explicit GptImpl(GptConfig cfg);
  std::string family() const override { return "gpt"; }
  nlohmann::json config_json() const override;  // HF GPT2Config names, model_type gpt2
  YAML::Node config_yaml() const override;
  TensorMap forward(const TensorMap& batch) override;
  // Logits (B,T,V) for ids (B,T) that continue the cached positions (caches: one per layer).
  torch::Device weights_device() const override { return transformer->wte->weight.device(); }
  double flops_per_unit() const override;  // per token, forward: 2N + attention
  int64_t context_length() const override { return cfg_.n_positions; }
  int64_t vocab_size() const override { return cfg_.vocab_size; }
  int64_t num_blocks() const override { return cfg_.n_layer; }
  // wte/wpe: embedding (wte is also the tied output head), h.N: block N, ln_f: head.
  ParamPlace param_place(const std::string& name) const override;
  const GptConfig& config() const { return cfg_; }

  GptTrunk transformer{nullptr};

  void hold_decode_weights_bf16() override;

 protected:
  torch::Tensor run_cached(const torch::Tensor& ids, std::vector<nn::KvCache>* caches, bool last_only) override;

 private:
  GptConfig cfg_;
};

// config.json (HF GPT2Config names) <-> GptConfig without building a model. The reader accepts
// n_inner null (= 4 * n_embd), n_ctx for n_positions, activation gelu_new / gelu_pytorch_tanh
// only; it validates and names `source` in errors.
GptConfig gpt_config_from_json(const nlohmann::json& j, const std::string& source);
nlohmann::json gpt_config_json(const GptConfig& c);  // GptImpl::config_json()

ModelFamily gpt_family();

}  // namespace ptft
