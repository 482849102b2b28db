#include "ptft/models/gpt.h"

#include <cmath>

#include "ptft/core/error.h"
#include "ptft/models/family_section.h"
#include "ptft/nn/dropout.h"
#include "ptft/nn/skip_init.h"
#include "ptft/nn/tied_embedding.h"
#include "family_formats.h"

namespace ptft {

void GptConfig::validate() const {
  auto positive = [](const char* key, int64_t v) {
    if (v <= 0) throw UserError(std::string("model.") + key + " must be > 0, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("n_positions", n_positions);
  positive("n_embd", n_embd);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  if (n_embd % n_head != 0)
    throw UserError("model.n_embd (" + std::to_string(n_embd) + ") must be divisible by model.n_head (" +
                        std::to_string(n_head) + ")",
                    "e.g. n_embd 384 with n_head 6");
  for (double p : {embd_pdrop, attn_pdrop, resid_pdrop})
    if (p < 0 || p >= 1) throw UserError("model dropout probabilities must be in [0, 1)");
}

GptBlockImpl::GptBlockImpl(GptConfig c) : cfg(std::move(c)) { reset(); }

void GptBlockImpl::reset() {
  const auto ln = torch::nn::LayerNormOptions({cfg.n_embd}).eps(cfg.layer_norm_epsilon);
  ln_1 = register_module("ln_1", torch::nn::LayerNorm(ln));
  attn = register_module("attn", nn::SelfAttention(nn::SelfAttentionOptions(cfg.n_embd, cfg.n_head)
                                                       .causal(true)
                                                       .attn_dropout(cfg.attn_pdrop)
                                                       .resid_dropout(cfg.resid_pdrop)));
  ln_2 = register_module("ln_2", torch::nn::LayerNorm(ln));
  mlp = register_module("mlp", nn::FeedForward(nn::FeedForwardOptions(cfg.n_embd, cfg.inner())
                                                   .activation("gelu_tanh")
                                                   .dropout(cfg.resid_pdrop)));
}

torch::Tensor GptBlockImpl::forward(const torch::Tensor& x, nn::KvCache* cache) {
  auto h = x + attn->forward(ln_1->forward(x), cache);  // (B,T,C)
  return h + mlp->forward(ln_2->forward(h));            // (B,T,C)
}

GptTrunkImpl::GptTrunkImpl(GptConfig c) : cfg(std::move(c)) { reset(); }

void GptTrunkImpl::reset() {
  wte = register_module("wte", torch::nn::Embedding(nn::embedding_options(cfg.vocab_size, cfg.n_embd, /*tied_head=*/true)));
  wpe = register_module("wpe", torch::nn::Embedding(cfg.n_positions, cfg.n_embd));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.n_layer; ++i) h->push_back(GptBlock(cfg));
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.n_embd}).eps(cfg.layer_norm_epsilon)));
}

GptImpl::GptImpl(GptConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  transformer = register_module("transformer", GptTrunk(cfg_));
  // GPT-2 init: N(0, 0.02) for weights and embeddings, zero biases, and residual projections
  // scaled by 1/sqrt(2 * n_layer).
  if (nn::SkipInit::active()) return;
  torch::NoGradGuard ng;
  const double std = cfg_.initializer_range;
  for (auto& p : named_parameters(true)) {
    const std::string& name = p.key();
    auto& t = p.value();
    if (name.find("ln_") != std::string::npos) {
      if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) t.fill_(1.0);
      else t.zero_();
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      t.zero_();
    } else if (name.find("c_proj.weight") != std::string::npos) {
      t.normal_(0.0, std / std::sqrt(2.0 * static_cast<double>(cfg_.n_layer)));
    } else {
      t.normal_(0.0, std);
    }
  }
}

torch::Tensor GptImpl::run_cached(const torch::Tensor& ids, std::vector<nn::KvCache>* caches, bool last_only) {
  const int64_t T = ids.size(1);
  const int64_t past = caches && !caches->empty() ? (*caches)[0].length() : 0;
  if (past + T > cfg_.n_positions)
    throw UserError("sequence of " + std::to_string(past + T) + " tokens is longer than the model's context (n_positions " +
                        std::to_string(cfg_.n_positions) + ")",
                    "shorten the prompt or generate fewer tokens");
  if (caches && caches->empty()) caches->resize(cfg_.n_layer);
  auto pos = torch::arange(past, past + T, ids.options().dtype(torch::kLong));  // (T)
  auto x = transformer->wte->forward(ids) + transformer->wpe->forward(pos);     // (B,T,C)
  x = nn::dropout(x, cfg_.embd_pdrop, is_training());
  for (int64_t i = 0; i < cfg_.n_layer; ++i)
    x = transformer->h[i]->as<GptBlock>()->forward(x, caches ? &(*caches)[i] : nullptr);
  if (last_only) x = x.narrow(1, T - 1, 1);  // (B,T,C) -> (B,1,C)
  x = transformer->ln_f->forward(x);
  return tied_head_logits(x, transformer->wte->weight);  // tied head: (B,T,C) @ (C,V) -> (B,T,V)
}

void GptImpl::hold_decode_weights_bf16() { hold_bf16_copies(*this, transformer->wte->weight); }

TensorMap GptImpl::forward(const TensorMap& batch) {
  auto it = batch.find("input_ids");
  PTFT_CHECK(it != batch.end(), "gpt expects batch field 'input_ids'");
  return {{"logits", forward_cached(it->second, nullptr)}};
}

ParamPlace GptImpl::param_place(const std::string& name) const {
  const int64_t b = block_index(name, "transformer.h.");
  if (b >= 0) return {ParamPlace::kBlock, b};
  if (name.rfind("transformer.wte.", 0) == 0) return {ParamPlace::kEmbedding, -1, /*tied_head=*/true};
  if (name.rfind("transformer.wpe.", 0) == 0) return {ParamPlace::kEmbedding, -1};
  return {ParamPlace::kHead, -1};
}

double GptImpl::flops_per_unit() const {
  // Per token, forward: 2 FLOPs per weight (all but position embeddings; the tied head is one
  // matmul with wte) plus attention scores and mixing, 4 * n_layer * T * C at full context.
  double n = 0;
  for (const auto& p : parameters()) n += static_cast<double>(p.numel());
  n -= static_cast<double>(cfg_.n_positions * cfg_.n_embd);
  return 2.0 * n + 4.0 * cfg_.n_layer * cfg_.n_positions * cfg_.n_embd;
}

nlohmann::json gpt_config_json(const GptConfig& c) {
  return {{"model_type", "gpt2"},
          {"architectures", {"GPT2LMHeadModel"}},
          {"ptft", {{"family", "gpt"}}},
          {"vocab_size", c.vocab_size},
          {"n_positions", c.n_positions},
          {"n_ctx", c.n_positions},
          {"n_embd", c.n_embd},
          {"n_layer", c.n_layer},
          {"n_head", c.n_head},
          {"n_inner", c.n_inner > 0 ? nlohmann::json(c.n_inner) : nlohmann::json(nullptr)},
          {"activation_function", "gelu_new"},
          {"embd_pdrop", c.embd_pdrop},
          {"attn_pdrop", c.attn_pdrop},
          {"resid_pdrop", c.resid_pdrop},
          {"layer_norm_epsilon", c.layer_norm_epsilon},
          {"initializer_range", c.initializer_range},
          {"tie_word_embeddings", true}};
}

nlohmann::json GptImpl::config_json() const { return gpt_config_json(cfg_); }

GptConfig gpt_config_from_json(const nlohmann::json& j, const std::string& source) {
  if (j.contains("activation_function") && j["activation_function"] != "gelu_new" &&
      j["activation_function"] != "gelu_pytorch_tanh")
    throw UserError("'" + source + "': activation_function " + j["activation_function"].dump() +
                    " is not GPT-2's gelu_new");
  GptConfig c;
  c.vocab_size = j.at("vocab_size").get<int64_t>();
  c.n_positions = j.value("n_positions", j.value("n_ctx", c.n_positions));
  c.n_embd = j.at("n_embd").get<int64_t>();
  c.n_layer = j.at("n_layer").get<int64_t>();
  c.n_head = j.at("n_head").get<int64_t>();
  c.n_inner = j.contains("n_inner") && j["n_inner"].is_number() ? j["n_inner"].get<int64_t>() : 0;
  c.embd_pdrop = j.value("embd_pdrop", 0.0);
  c.attn_pdrop = j.value("attn_pdrop", 0.0);
  c.resid_pdrop = j.value("resid_pdrop", 0.0);
  c.layer_norm_epsilon = j.value("layer_norm_epsilon", 1e-5);
  c.initializer_range = j.value("initializer_range", 0.02);
  try {
    c.validate();
  } catch (const UserError& e) {
    throw e.with_context(source);
  }
  return c;
}

YAML::Node GptImpl::config_yaml() const { return family_section_yaml("gpt", cfg_); }

ModelFamily gpt_family() {
  ModelFamily f;
  f.name = "gpt";
  f.default_task = "causal_lm";
  f.tiny_architecture = "{vocab_size: 64, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4}";
  f.example_batch = causal_lm_example_batch;
  f.tokenizer_specials = {"<|endoftext|>"};  // GPT-2's document separator; <unk> at 0 is never produced
  f.tokenizer_eot = "<|endoftext|>";
  f.from_run_config = [](const config::Document& doc, const std::string& prefix) -> ModelPtr {
    return std::make_shared<GptImpl>(bind_family_section<GptConfig>(doc, prefix));
  };
  f.from_config_json = [](const nlohmann::json& j, const std::string& source) -> ModelPtr {
    return std::make_shared<GptImpl>(gpt_config_from_json(j, source));
  };
  f.formats = {gpt2_hf_format()};
  f.peft = {"CAUSAL_LM", /*fan_in_fan_out=*/true};  // HF GPT-2's projections are Conv1D
  return f;
}

}  // namespace ptft
