#include "ptft/models/llama.h"

#include <cmath>

#include "ptft/core/error.h"
#include "ptft/models/family_section.h"
#include "ptft/nn/skip_init.h"
#include "ptft/nn/tied_embedding.h"
#include "family_formats.h"

namespace ptft {

void LlamaConfig::validate() const {
  auto positive = [](const char* key, int64_t v) {
    if (v <= 0) throw UserError(std::string("model.") + key + " must be > 0, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("max_position_embeddings", max_position_embeddings);
  if (head_dim == 0 && hidden_size % num_attention_heads != 0)
    throw UserError("model.hidden_size (" + std::to_string(hidden_size) + ") must be divisible by model.num_attention_heads (" +
                        std::to_string(num_attention_heads) + ")",
                    "or set model.head_dim");
  if (head_size() <= 0 || head_size() % 2 != 0)
    throw UserError("model.head_dim must be even and > 0 for rotary embeddings, got " + std::to_string(head_size()));
  if (num_key_value_heads < 0 || num_attention_heads % kv_heads() != 0)
    throw UserError("model.num_key_value_heads (" + std::to_string(kv_heads()) + ") must divide model.num_attention_heads (" +
                        std::to_string(num_attention_heads) + ")",
                    "each key/value head serves num_attention_heads / num_key_value_heads query heads");
  if (!(rms_norm_eps > 0)) throw UserError("model.rms_norm_eps must be > 0");
  if (!(rope_theta > 0)) throw UserError("model.rope_theta must be > 0");
  rope_scaling().validate("model.rope_type");
  // model_type names the Hugging Face class an export is loaded as: the options must be its.
  const bool plain_bias = qkv_bias == o_bias;
  std::string wrong;
  if (model_type == "llama" && (qk_norm || !plain_bias))
    wrong = "LlamaForCausalLM has no q/k norm and one attention_bias for q, k, v and o";
  else if (model_type == "qwen2" && (!qkv_bias || o_bias || qk_norm || mlp_bias || head_dim != 0))
    wrong = "Qwen2ForCausalLM has q/k/v biases (qkv_bias true), no o/MLP bias, no q/k norm and head_dim 0";
  else if (model_type == "qwen3" && (!qk_norm || !plain_bias || mlp_bias))
    wrong = "Qwen3ForCausalLM has q/k norm (qk_norm true), one attention_bias for q, k, v and o, no MLP bias";
  else if (model_type == "mistral" && (qk_norm || qkv_bias || o_bias || mlp_bias))
    wrong = "MistralForCausalLM has no biases and no q/k norm";
  if (!wrong.empty())
    throw UserError("model.model_type " + model_type + " does not match the other model keys: " + wrong,
                    "set those keys as the model type has them, or choose the model_type (llama, qwen2, qwen3, "
                    "mistral) whose architecture you mean");
}

nn::RopeScaling LlamaConfig::rope_scaling() const {
  nn::RopeScaling s;
  s.type = rope_type;
  s.factor = rope_factor;
  s.low_freq_factor = rope_low_freq_factor;
  s.high_freq_factor = rope_high_freq_factor;
  s.original_max_positions = rope_original_max_position_embeddings;
  return s;
}

LlamaBlockImpl::LlamaBlockImpl(LlamaConfig c, std::shared_ptr<const nn::Rotary> r) : cfg(std::move(c)), rope(std::move(r)) {
  reset();
}

void LlamaBlockImpl::reset() {
  const auto norm = nn::RmsNormOptions(cfg.hidden_size).eps(cfg.rms_norm_eps);
  input_layernorm = register_module("input_layernorm", nn::RmsNorm(norm));
  std::shared_ptr<const nn::Rotary> r = rope;
  self_attn = register_module(
      "self_attn", nn::SelfAttention(nn::SelfAttentionOptions(cfg.hidden_size, cfg.num_attention_heads)
                                         .fused(false)
                                         .n_kv_head(cfg.kv_heads())
                                         .head_dim(cfg.head_size())
                                         .qkv_bias(cfg.qkv_bias)
                                         .o_bias(cfg.o_bias)
                                         .qk_norm_eps(cfg.qk_norm ? cfg.rms_norm_eps : 0.0)
                                         .causal(true)
                                         .position_hook([r](torch::Tensor& q, torch::Tensor& k, int64_t offset) {
                                           r->apply(q, k, offset);
                                         })));
  post_attention_layernorm = register_module("post_attention_layernorm", nn::RmsNorm(norm));
  mlp = register_module("mlp", nn::GatedFeedForward(
                                   nn::GatedFeedForwardOptions(cfg.hidden_size, cfg.intermediate_size).bias(cfg.mlp_bias)));
}

torch::Tensor LlamaBlockImpl::forward(const torch::Tensor& x, nn::KvCache* cache) {
  auto h = x + self_attn->forward(input_layernorm->forward(x), cache);  // (B,T,C)
  return h + mlp->forward(post_attention_layernorm->forward(h));        // (B,T,C)
}

LlamaTrunkImpl::LlamaTrunkImpl(LlamaConfig c, std::shared_ptr<const nn::Rotary> r) : cfg(std::move(c)), rope(std::move(r)) {
  reset();
}

void LlamaTrunkImpl::reset() {
  embed_tokens = register_module(
      "embed_tokens", torch::nn::Embedding(nn::embedding_options(cfg.vocab_size, cfg.hidden_size, cfg.tie_word_embeddings)));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layers->push_back(LlamaBlock(cfg, rope));
  norm = register_module("norm", nn::RmsNorm(nn::RmsNormOptions(cfg.hidden_size).eps(cfg.rms_norm_eps)));
}

LlamaImpl::LlamaImpl(LlamaConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  auto rope = std::make_shared<const nn::Rotary>(cfg_.head_size(), cfg_.rope_theta, cfg_.rope_scaling(),
                                                 cfg_.max_position_embeddings);
  model = register_module("model", LlamaTrunk(cfg_, rope));
  if (!cfg_.tie_word_embeddings)
    lm_head = register_module("lm_head", nn::Linear(nn::LinearOptions(cfg_.hidden_size, cfg_.vocab_size).bias(false)));
  // HF's _init_weights: N(0, initializer_range) for projections and embeddings, zero biases,
  // norms at one.
  if (nn::SkipInit::active()) return;
  torch::NoGradGuard ng;
  for (auto& p : named_parameters(true)) {
    const std::string& name = p.key();
    auto& t = p.value();
    if (name.find("norm.weight") != std::string::npos) t.fill_(1.0);
    else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) t.zero_();
    else t.normal_(0.0, cfg_.initializer_range);
  }
}

torch::Tensor LlamaImpl::run_cached(const torch::Tensor& ids, std::vector<nn::KvCache>* caches, bool last_only) {
  const int64_t T = ids.size(1);
  const int64_t past = caches && !caches->empty() ? (*caches)[0].length() : 0;
  if (past + T > cfg_.max_position_embeddings)
    throw UserError("sequence of " + std::to_string(past + T) +
                        " tokens is longer than the model's context (max_position_embeddings " +
                        std::to_string(cfg_.max_position_embeddings) + ")",
                    "shorten the prompt or generate fewer tokens");
  if (caches && caches->empty()) caches->resize(cfg_.num_hidden_layers);
  auto x = model->embed_tokens->forward(ids);  // (B,T,C)
  for (int64_t i = 0; i < cfg_.num_hidden_layers; ++i)
    x = model->layers[i]->as<LlamaBlock>()->forward(x, caches ? &(*caches)[i] : nullptr);
  if (last_only) x = x.narrow(1, T - 1, 1);  // (B,T,C) -> (B,1,C)
  x = model->norm->forward(x);
  if (lm_head) return lm_head->forward(x);                        // (B,T,V)
  return tied_head_logits(x, model->embed_tokens->weight);       // tied: (B,T,C) @ (C,V) -> (B,T,V)
}

void LlamaImpl::hold_decode_weights_bf16() {
  hold_bf16_copies(*this, lm_head ? torch::Tensor() : model->embed_tokens->weight);  // an untied lm_head is a Linear
}

TensorMap LlamaImpl::forward(const TensorMap& batch) {
  auto it = batch.find("input_ids");
  PTFT_CHECK(it != batch.end(), "llama expects batch field 'input_ids'");
  return {{"logits", forward_cached(it->second, nullptr)}};
}

ParamPlace LlamaImpl::param_place(const std::string& name) const {
  const int64_t b = block_index(name, "model.layers.");
  if (b >= 0) return {ParamPlace::kBlock, b};
  if (name.rfind("model.embed_tokens.", 0) == 0)
    return {ParamPlace::kEmbedding, -1, /*tied_head=*/cfg_.tie_word_embeddings};
  return {ParamPlace::kHead, -1};
}

double LlamaImpl::flops_per_unit() const {
  // Per token, forward: 2 FLOPs per weight but the input embedding (a lookup; when tied it is
  // the head's one matmul) plus attention scores and mixing, 4 * layers * T * heads * head_dim.
  double n = 0;
  for (const auto& p : parameters()) n += static_cast<double>(p.numel());
  if (!cfg_.tie_word_embeddings) n -= static_cast<double>(cfg_.vocab_size * cfg_.hidden_size);
  return 2.0 * n + 4.0 * static_cast<double>(cfg_.num_hidden_layers * cfg_.max_position_embeddings *
                                             cfg_.num_attention_heads * cfg_.head_size());
}

nlohmann::json LlamaImpl::config_json() const { return llama_config_json(cfg_); }

YAML::Node LlamaImpl::config_yaml() const { return family_section_yaml("llama", cfg_); }

ModelFamily llama_family() {
  ModelFamily f;
  f.name = "llama";
  f.default_task = "causal_lm";
  f.tiny_architecture =
      "{vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, "
      "num_key_value_heads: 2, max_position_embeddings: 32}";
  f.example_batch = causal_lm_example_batch;
  // A tokenizer ptft trains for it: Llama's <s> / </s> (</s> ends documents), <unk> at 0.
  f.tokenizer_specials = {"<unk>", "<s>", "</s>"};
  f.tokenizer_eot = "</s>";
  f.tokenizer_unk = "<unk>";
  f.from_run_config = [](const config::Document& doc, const std::string& prefix) -> ModelPtr {
    return std::make_shared<LlamaImpl>(bind_family_section<LlamaConfig>(doc, prefix));
  };
  f.from_config_json = [](const nlohmann::json& j, const std::string& source) -> ModelPtr {
    return std::make_shared<LlamaImpl>(llama_config_from_json(j, source));
  };
  f.formats = {llama_hf_format()};
  f.peft = {"CAUSAL_LM", /*fan_in_fan_out=*/false};
  return f;
}

}  // namespace ptft
