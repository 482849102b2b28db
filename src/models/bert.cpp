#include "ptft/models/bert.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstring>

#include "ptft/core/error.h"
#include "ptft/models/class_names.h"
#include "ptft/models/family_section.h"
#include "ptft/nn/dropout.h"
#include "ptft/nn/gelu.h"
#include "ptft/nn/tied_embedding.h"
#include "family_formats.h"

namespace ptft {

void BertConfig::validate() const {
  auto positive = [](const char* key, int64_t v) {
    if (v <= 0) throw UserError(std::string("model.") + key + " must be > 0, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (hidden_size % num_attention_heads != 0)
    throw UserError("model.hidden_size (" + std::to_string(hidden_size) + ") must be divisible by "
                    "model.num_attention_heads (" + std::to_string(num_attention_heads) + ")",
                    "e.g. hidden_size 256 with num_attention_heads 4");
  for (double p : {hidden_dropout_prob, attention_probs_dropout_prob, classifier_p()})
    if (p < 0 || p >= 1) throw UserError("model dropout probabilities must be in [0, 1), got " + std::to_string(p));
  if (pad_token_id < 0 || pad_token_id >= vocab_size)
    throw UserError("model.pad_token_id " + std::to_string(pad_token_id) + " is not a token id (vocab_size " +
                    std::to_string(vocab_size) + ")");
  if (num_classes == 1 || num_classes < 0)
    throw UserError("model.num_classes must be 0 (masked LM) or >= 2, got " + std::to_string(num_classes));
}

// --- blocks ------------------------------------------------------------------------------------

namespace {
// HF's module paths, inside a layer and inside the MLM head, of the members that are no direct children.
constexpr const char* kAttentionNorm = "output.LayerNorm";  // inside `attention`
constexpr const char* kIntermediateDense = "intermediate.dense";
constexpr const char* kOutputDense = "output.dense";
constexpr const char* kOutputNorm = "output.LayerNorm";
constexpr const char* kTransformDense = "transform.dense";
constexpr const char* kTransformNorm = "transform.LayerNorm";
}  // namespace

BertLayerImpl::BertLayerImpl(BertConfig c)
    : cfg(std::move(c)),
      mlp_options(nn::FeedForwardOptions(cfg.hidden_size, cfg.intermediate_size)
                      .activation("gelu")
                      .dropout(cfg.hidden_dropout_prob)) {
  reset();
}

void BertLayerImpl::reset() {
  const auto ln = torch::nn::LayerNormOptions({cfg.hidden_size}).eps(cfg.layer_norm_eps);
  nn::AttentionProjectionNames names;  // HF's, below bert.encoder.layer.N.attention
  names.q = "self.query";
  names.k = "self.key";
  names.v = "self.value";
  names.o = "output.dense";
  const auto attention_options = nn::SelfAttentionOptions(cfg.hidden_size, cfg.num_attention_heads)
                                     .fused(false)
                                     .names(names)
                                     .causal(false)
                                     .attn_dropout(cfg.attention_probs_dropout_prob)
                                     .resid_dropout(cfg.hidden_dropout_prob);
  attention = register_module("attention", nn::SelfAttention(attention_options));
  nn::register_at(*attention, kAttentionNorm, torch::nn::LayerNorm(ln));
  nn::register_at(*this, kIntermediateDense, nn::Linear(nn::LinearOptions(cfg.hidden_size, cfg.intermediate_size)));
  nn::register_at(*this, kOutputDense, nn::Linear(nn::LinearOptions(cfg.intermediate_size, cfg.hidden_size)));
  nn::register_at(*this, kOutputNorm, torch::nn::LayerNorm(ln));
  bind();
}

void BertLayerImpl::bind() {
  attention_norm = nn::module_at<torch::nn::LayerNorm>(*attention, kAttentionNorm);
  intermediate_dense = nn::module_at<nn::Linear>(*this, kIntermediateDense);
  output_dense = nn::module_at<nn::Linear>(*this, kOutputDense);
  output_norm = nn::module_at<torch::nn::LayerNorm>(*this, kOutputNorm);
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& key_padding) {
  auto h = attention_norm->forward(x + attention->forward(x, nullptr, key_padding));      // (B,T,C), post-LN
  auto m = nn::feed_forward(h, *intermediate_dense, *output_dense, mlp_options, is_training());  // (B,T,C)
  return output_norm->forward(h + m);                                                      // (B,T,C)
}

BertEmbeddingsImpl::BertEmbeddingsImpl(BertConfig c) : cfg(std::move(c)) { reset(); }

void BertEmbeddingsImpl::reset() {
  // A masked LM's decoder is the word embedding (num_classes 0); a classifier has no tied head.
  word_embeddings = register_module(
      "word_embeddings", torch::nn::Embedding(nn::embedding_options(cfg.vocab_size, cfg.hidden_size, cfg.num_classes == 0)));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(cfg.max_position_embeddings, cfg.hidden_size));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(cfg.type_vocab_size, cfg.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.hidden_size}).eps(cfg.layer_norm_eps)));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& ids, const torch::Tensor& types) {
  const int64_t T = ids.size(1);
  auto pos = torch::arange(T, ids.options().dtype(torch::kLong));  // (T)
  auto x = word_embeddings->forward(ids) + position_embeddings->forward(pos);  // (B,T,C)
  x = types.defined() ? x + token_type_embeddings->forward(types)
                      : x + token_type_embeddings->weight[0];  // all type 0
  x = LayerNorm->forward(x);
  return nn::dropout(x, cfg.hidden_dropout_prob, is_training());
}

BertEncoderImpl::BertEncoderImpl(BertConfig c) : cfg(std::move(c)) { reset(); }

void BertEncoderImpl::reset() {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layer->push_back(BertLayer(cfg));
}

BertPoolerImpl::BertPoolerImpl(int64_t c) : hidden_size(c) { reset(); }

void BertPoolerImpl::reset() { dense = register_module("dense", torch::nn::Linear(hidden_size, hidden_size)); }

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& h) {
  return torch::tanh(dense->forward(h.select(1, 0)));  // [CLS]: (B,T,C) -> (B,C)
}

BertMlmHeadImpl::BertMlmHeadImpl(BertConfig c) : cfg(std::move(c)) { reset(); }

void BertMlmHeadImpl::reset() {
  nn::register_at(*this, kTransformDense, torch::nn::Linear(cfg.hidden_size, cfg.hidden_size));
  nn::register_at(*this, kTransformNorm,
                  torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.hidden_size}).eps(cfg.layer_norm_eps)));
  bias = register_parameter("bias", torch::zeros({cfg.vocab_size}));
  bind();
}

void BertMlmHeadImpl::bind() {
  dense = nn::module_at<torch::nn::Linear>(*this, kTransformDense);
  LayerNorm = nn::module_at<torch::nn::LayerNorm>(*this, kTransformNorm);
}

torch::Tensor BertMlmHeadImpl::forward(const torch::Tensor& h, const torch::Tensor& decoder) {
  // Under bf16 autocast dense gives bf16, and libtorch 1.13's CPU LayerNorm takes no bf16 input
  // with float weights: back to the weights' dtype (a no-op in fp32).
  auto x = LayerNorm->forward(nn::gelu_erf(dense->forward(h)).to(LayerNorm->weight.scalar_type()));  // (N,C)
  return torch::addmm(bias, x, decoder.t());                    // (N,C) @ (C,V) + (V) -> (N,V)
}

BertTrunkImpl::BertTrunkImpl(BertConfig c) : cfg(std::move(c)) { reset(); }

void BertTrunkImpl::reset() {
  embeddings = register_module("embeddings", BertEmbeddings(cfg));
  encoder = register_module("encoder", BertEncoder(cfg));
  pooler = register_module("pooler", BertPooler(cfg.hidden_size));
}

// --- the model ---------------------------------------------------------------------------------

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// HF's BertPreTrainedModel._init_weights: N(0, initializer_range) for Linear and Embedding
// weights, zero biases (cls.predictions.bias too), LayerNorm 1/0, the [PAD] embedding row zero.
void init_bert_parameters(torch::nn::Module& m, const BertConfig& cfg, const std::string& only_prefix = "") {
  torch::NoGradGuard ng;
  for (auto& p : m.named_parameters(true)) {
    const std::string& name = p.key();
    if (!only_prefix.empty() && name.rfind(only_prefix, 0) != 0) continue;
    auto& t = p.value();
    const bool norm = name.find("LayerNorm.") != std::string::npos;
    if (norm) {
      if (ends_with(name, "weight")) t.fill_(1.0);
      else t.zero_();
    } else if (ends_with(name, "bias")) {
      t.zero_();
    } else {
      t.normal_(0.0, cfg.initializer_range);
    }
  }
}

}  // namespace

BertImpl::BertImpl(BertConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  bert = register_module("bert", BertTrunk(cfg_));
  build_heads();
  init_bert_parameters(*this, cfg_);
  torch::NoGradGuard ng;
  bert->embeddings->word_embeddings->weight[cfg_.pad_token_id].zero_();
}

void BertImpl::build_heads() {
  if (cfg_.num_classes > 0) {
    classifier = register_module("classifier", torch::nn::Linear(cfg_.hidden_size, cfg_.num_classes));
    if (class_names_.size() != static_cast<size_t>(cfg_.num_classes)) class_names_ = default_class_names(cfg_.num_classes);
  } else {
    cls = nn::register_at(*this, "cls.predictions", BertMlmHead(cfg_));
    class_names_.clear();
  }
}

torch::Tensor BertImpl::encode(const torch::Tensor& ids, const torch::Tensor& types, const torch::Tensor& attention_mask) {
  const int64_t T = ids.size(1);
  if (T > cfg_.max_position_embeddings)
    throw UserError("sequence of " + std::to_string(T) + " tokens is longer than the model's context "
                    "(max_position_embeddings " + std::to_string(cfg_.max_position_embeddings) + ")",
                    "truncate the input");
  if (types.defined() && types.numel() > 0 &&
      (types.max().item<int64_t>() >= cfg_.type_vocab_size || types.min().item<int64_t>() < 0))
    throw UserError("token_type_ids up to " + std::to_string(types.max().item<int64_t>()) + " for a model with type_vocab_size " +
                        std::to_string(cfg_.type_vocab_size),
                    "sentence pairs need type_vocab_size >= 2; classify single texts ({\"text\", \"label\"}) with this model");
  torch::Tensor key_padding;  // (B,T) bool, true = padding
  if (attention_mask.defined()) key_padding = attention_mask.eq(0);
  auto x = bert->embeddings->forward(ids, types);  // (B,T,C)
  for (const auto& layer : *bert->encoder->layer) x = layer->as<BertLayer>()->forward(x, key_padding);
  return x;  // (B,T,C)
}

TensorMap BertImpl::forward(const TensorMap& batch) {
  auto get = [&](const char* name) {
    auto it = batch.find(name);
    return it == batch.end() ? torch::Tensor() : it->second;
  };
  const torch::Tensor ids = get("input_ids");
  PTFT_CHECK(ids.defined(), "bert expects batch field 'input_ids'");
  const torch::Tensor h = encode(ids, get("token_type_ids"), get("attention_mask"));  // (B,T,C)
  if (is_classifier()) {
    auto pooled = bert->pooler->forward(h);  // (B,C)
    pooled = nn::dropout(pooled, cfg_.classifier_p(), is_training());
    return {{"logits", classifier->forward(pooled)}};  // (B,K)
  }
  const torch::Tensor& decoder = bert->embeddings->word_embeddings->weight;  // tied: (V,C)
  const torch::Tensor targets = get("targets");
  if (!targets.defined())
    return {{"logits", cls->forward(h.reshape({-1, cfg_.hidden_size}), decoder).view({ids.size(0), ids.size(1), -1})}};
  // Only the predicted positions go through the V-wide decoder (15 % of the tokens in MLM).
  auto where = targets.reshape({-1}).ne(-100).nonzero().squeeze(1);        // (N)
  auto hs = h.reshape({-1, cfg_.hidden_size}).index_select(0, where);       // (B*T,C) -> (N,C)
  return {{"logits", cls->forward(hs, decoder)}, {"targets", targets.reshape({-1}).index_select(0, where)}};
}

bool BertImpl::no_weight_decay(const std::string& name, const torch::Tensor& p) const {
  return ModelImpl::no_weight_decay(name, p) || name.find("LayerNorm") != std::string::npos;
}

ParamPlace BertImpl::param_place(const std::string& name) const {
  const int64_t b = block_index(name, "bert.encoder.layer.");
  if (b >= 0) return {ParamPlace::kBlock, b};
  if (name.rfind("bert.embeddings.word_embeddings.", 0) == 0)
    return {ParamPlace::kEmbedding, -1, /*tied_head=*/!is_classifier()};
  if (name.rfind("bert.embeddings.", 0) == 0) return {ParamPlace::kEmbedding, -1};
  return {ParamPlace::kHead, -1};  // pooler, cls (MLM head), classifier
}

void BertImpl::set_classes(const std::vector<std::string>& names, bool new_head) {
  check_class_names(names, "bert classes");
  const auto k = static_cast<int64_t>(names.size());
  if (!is_classifier()) {
    // A masked LM becomes a sequence classifier: the MLM head goes, a fresh classifier comes.
    const auto device = bert->pooler->dense->weight.device();
    const auto dtype = bert->pooler->dense->weight.scalar_type();
    unregister_module("cls");
    cls = nullptr;
    bert->embeddings->word_embeddings->options.sparse(false);  // no longer a tied decoder
    cfg_.num_classes = k;
    build_heads();
    init_bert_parameters(*this, cfg_, "classifier.");
    classifier->to(device, dtype);
  } else if (new_head || k != cfg_.num_classes) {
    classifier = replace_linear_head(*this, "classifier", classifier, k);
    torch::NoGradGuard ng;
    classifier->weight.normal_(0.0, cfg_.initializer_range);
    classifier->bias.zero_();
    cfg_.num_classes = k;
  }
  class_names_ = names;
}

nlohmann::json bert_config_json(const BertConfig& c, const std::vector<std::string>& class_names) {
  nlohmann::json j = {{"model_type", "bert"},
                      {"architectures", {c.num_classes > 0 ? "BertForSequenceClassification" : "BertForMaskedLM"}},
                      {"ptft", {{"family", "bert"}}},
                      {"vocab_size", c.vocab_size},
                      {"hidden_size", c.hidden_size},
                      {"num_hidden_layers", c.num_hidden_layers},
                      {"num_attention_heads", c.num_attention_heads},
                      {"intermediate_size", c.intermediate_size},
                      {"hidden_act", "gelu"},
                      {"hidden_dropout_prob", c.hidden_dropout_prob},
                      {"attention_probs_dropout_prob", c.attention_probs_dropout_prob},
                      {"classifier_dropout", c.classifier_dropout < 0 ? nlohmann::json(nullptr) : nlohmann::json(c.classifier_dropout)},
                      {"max_position_embeddings", c.max_position_embeddings},
                      {"type_vocab_size", c.type_vocab_size},
                      {"initializer_range", c.initializer_range},
                      {"layer_norm_eps", c.layer_norm_eps},
                      {"pad_token_id", c.pad_token_id},
                      {"position_embedding_type", "absolute"},
                      {"tie_word_embeddings", true}};
  if (c.num_classes > 0) {
    j.update(class_names_json(class_names));
    j["problem_type"] = "single_label_classification";
  }
  return j;
}

nlohmann::json BertImpl::config_json() const { return bert_config_json(cfg_, class_names_); }

BertConfig bert_config_from_json(const nlohmann::json& j, const std::string& source) {
  auto unsupported = [&](const char* key, const char* want) {
    if (j.contains(key) && !j[key].is_null() && j[key] != want)
      throw UserError("'" + source + "': " + key + " " + j[key].dump() + " is not supported (ptft's BERT has " + want + ")",
                      "only the original BERT architecture is read");
  };
  unsupported("hidden_act", "gelu");
  unsupported("position_embedding_type", "absolute");
  BertConfig c;
  try {
    c.vocab_size = j.at("vocab_size").get<int64_t>();
    c.hidden_size = j.at("hidden_size").get<int64_t>();
    c.num_hidden_layers = j.at("num_hidden_layers").get<int64_t>();
    c.num_attention_heads = j.at("num_attention_heads").get<int64_t>();
    c.intermediate_size = j.at("intermediate_size").get<int64_t>();
    c.max_position_embeddings = j.value("max_position_embeddings", c.max_position_embeddings);
    c.type_vocab_size = j.value("type_vocab_size", c.type_vocab_size);
    c.hidden_dropout_prob = j.value("hidden_dropout_prob", c.hidden_dropout_prob);
    c.attention_probs_dropout_prob = j.value("attention_probs_dropout_prob", c.attention_probs_dropout_prob);
    if (j.contains("classifier_dropout") && j["classifier_dropout"].is_number())
      c.classifier_dropout = j["classifier_dropout"].get<double>();
    c.layer_norm_eps = j.value("layer_norm_eps", c.layer_norm_eps);
    c.initializer_range = j.value("initializer_range", c.initializer_range);
    if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"].get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + source + "' is not a BERT config.json: " + e.what(),
                    "it needs vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size");
  }
  bool classifier = false;
  if (j.contains("architectures") && j["architectures"].is_array())
    for (const auto& a : j["architectures"])
      if (a.is_string() && a.get<std::string>() == "BertForSequenceClassification") classifier = true;
  if (classifier) c.num_classes = static_cast<int64_t>(class_names_from_json(j, -1, source).size());
  try {
    c.validate();
  } catch (const UserError& e) {
    throw e.with_context(source);
  }
  return c;
}

YAML::Node BertImpl::config_yaml() const { return family_section_yaml("bert", cfg_); }

namespace {

// Random token windows with every fourth position masked and predicted (masked LM), or with
// labels (a classifier) (the registry's model test suite).
TensorMap bert_example_batch(const ModelImpl& model, int64_t n, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto& bert = dynamic_cast<const BertImpl&>(model);
  const int64_t T = std::min<int64_t>(model.context_length(), 12);
  auto ids = torch::randint(1, model.vocab_size(), {n, T}, g, torch::kLong);  // (B,T), no [PAD]
  if (bert.is_classifier())
    return {{"input_ids", ids}, {"y", torch::randint(bert.config().num_classes, {n}, g, torch::kLong)}};
  auto predicted = torch::arange(T).remainder(4).eq(1).expand({n, T});  // (B,T)
  return {{"input_ids", ids.masked_fill(predicted, 0)}, {"targets", ids.masked_fill(predicted.logical_not(), -100)}};
}

}  // namespace

ModelFamily bert_family() {
  ModelFamily f;
  f.name = "bert";
  f.default_task = "masked_lm";
  f.tiny_architecture = "{vocab_size: 64, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, "
                        "intermediate_size: 64, max_position_embeddings: 32, hidden_dropout_prob: 0.0, "
                        "attention_probs_dropout_prob: 0.0}";
  f.example_batch = bert_example_batch;
  f.tokenizer_specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};  // BERT's ids 0-4 in this order
  f.tokenizer_eot = "[SEP]";
  f.tokenizer_unk = "[UNK]";
  f.tokenizer_pad = "[PAD]";
  f.from_run_config = [](const config::Document& doc, const std::string& prefix) -> ModelPtr {
    return std::make_shared<BertImpl>(bind_family_section<BertConfig>(doc, prefix));
  };
  f.from_config_json = [](const nlohmann::json& j, const std::string& source) -> ModelPtr {
    auto m = std::make_shared<BertImpl>(bert_config_from_json(j, source));
    if (m->is_classifier()) m->set_classes(class_names_from_json(j, m->config().num_classes, source), /*new_head=*/false);
    return m;
  };
  f.formats = {bert_hf_format()};
  f.legacy = bert_legacy_names();
  return f;
}

}  // namespace ptft
