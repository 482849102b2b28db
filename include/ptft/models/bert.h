// ptft/models/bert.h — BERT, as Hugging Face's BertModel has it: word + position + token-type
// embeddings, post-LayerNorm encoder blocks (LayerNorm eps 1e-12), exact (erf) GELU, a tanh
// pooler on [CLS]; with either the masked-LM head (BertForMaskedLM: dense + GELU + LayerNorm,
// decoder tied to the word embeddings, own bias) or a sequence classifier (dropout + linear on
// the pooled [CLS], BertForSequenceClassification).
//
// Parameter names are HF's (BertForMaskedLM / BertForSequenceClassification), so HF files and
// PEFT adapters need no renaming: bert.embeddings.{word,position,token_type}_embeddings,
// bert.embeddings.LayerNorm; per layer bert.encoder.layer.N.{attention.self.{query,key,value},
// attention.output.dense, attention.output.LayerNorm, intermediate.dense, output.dense,
// output.LayerNorm} (the projections are nn::Linear, so LoRA targets them); bert.pooler.dense;
// the MLM head cls.predictions.{transform.dense, transform.LayerNorm, bias} (its decoder is the
// word embeddings); the classifier `classifier`.
//
//   model: {family: bert, preset: bert-tiny}                 # or any BertConfig key
//   out = bert->forward({{"input_ids", ids}});              // ids (B,T) -> out["logits"] (B,T,V)
//   out = bert->forward({{"input_ids", ids}, {"targets", t}});  // MLM: only where t != -100:
//                                                                // out["logits"] (N,V), out["targets"] (N)
//   bert->set_classes({"law", "food"}, true);               // classifier: out["logits"] (B,2)
//   // optional batch fields: token_type_ids (B,T) int64, attention_mask (B,T) (1 = token, 0 = padding)
#pragma once

#include "ptft/models/model.h"
#include "ptft/nn/attention.h"
#include "ptft/nn/feed_forward.h"

namespace ptft {

struct BertConfig {
  int64_t vocab_size = 30522;             // tokens (bert-base-uncased: 30522)
  int64_t hidden_size = 768;              // width C
  int64_t num_hidden_layers = 12;         // encoder blocks
  int64_t num_attention_heads = 12;       // heads (C % heads == 0)
  int64_t intermediate_size = 3072;       // MLP width
  int64_t max_position_embeddings = 512;  // longest sequence
  int64_t type_vocab_size = 2;            // segments (sentence A / B)
  double hidden_dropout_prob = 0.1;       // dropout on embeddings and residual branches
  double attention_probs_dropout_prob = 0.1;
  double classifier_dropout = -1;         // before the classifier; < 0 = hidden_dropout_prob (HF null)
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;        // std of the normal init
  int64_t pad_token_id = 0;               // [PAD]
  int64_t num_classes = 0;                // 0 = masked-LM head; >= 2 = sequence classifier
  template <class V> void visit(V& v) {
    v("vocab_size", vocab_size, "tokens in the vocabulary");
    v("hidden_size", hidden_size, "model width");
    v("num_hidden_layers", num_hidden_layers, "encoder blocks");
    v("num_attention_heads", num_attention_heads, "attention heads");
    v("intermediate_size", intermediate_size, "MLP width");
    v("max_position_embeddings", max_position_embeddings, "longest sequence (context length)");
    v("type_vocab_size", type_vocab_size, "token types (segments)");
    v("hidden_dropout_prob", hidden_dropout_prob, "dropout on embeddings and residual branches");
    v("attention_probs_dropout_prob", attention_probs_dropout_prob, "attention dropout");
    v("classifier_dropout", classifier_dropout, "dropout before the classifier; < 0 = hidden_dropout_prob");
    v("layer_norm_eps", layer_norm_eps, "LayerNorm epsilon");
    v("initializer_range", initializer_range, "init std");
    v("pad_token_id", pad_token_id, "id of [PAD]");
    v("num_classes", num_classes, "0 = masked-LM head; >= 2 = sequence classifier (classification data sets it)");
  }
  void validate() const;
  double classifier_p() const { return classifier_dropout < 0 ? hidden_dropout_prob : classifier_dropout; }
};

// One post-LayerNorm encoder block: h = LN1(x + attn(x)); y = LN2(h + mlp(h)), with HF's names:
// attention.self.{query,key,value} + attention.output.dense (the shared nn::SelfAttention),
// attention.output.LayerNorm, intermediate.dense -> GELU -> output.dense (nn::feed_forward),
// output.LayerNorm.
class BertLayerImpl : public nn::PathCloneable<BertLayerImpl> {
 public:
  explicit BertLayerImpl(BertConfig cfg);
  void reset() override;
  void bind();  // the members <- the modules at their paths (PathCloneable)
  // x: (B,T,C); key_padding: (B,T) bool, true = padding (undefined: none) -> (B,T,C)
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding);

  BertConfig cfg;
  nn::FeedForwardOptions mlp_options;            // the activation (gelu) and dropout of the MLP
  nn::SelfAttention attention{nullptr};          // attention.self.{query,key,value}: (C,C); attention.output.dense
  torch::nn::LayerNorm attention_norm{nullptr};  // attention.output.LayerNorm
  nn::Linear intermediate_dense{nullptr};        // intermediate.dense: (I,C)
  nn::Linear output_dense{nullptr};              // output.dense: (C,I)
  torch::nn::LayerNorm output_norm{nullptr};     // output.LayerNorm
};
TORCH_MODULE(BertLayer);

class BertEmbeddingsImpl : public torch::nn::Cloneable<BertEmbeddingsImpl> {
 public:
  explicit BertEmbeddingsImpl(BertConfig cfg);
  void reset() override;
  // ids, types: (B,T) -> LayerNorm(word + position + type) (B,T,C), dropout in training
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& types);

  BertConfig cfg;
  torch::nn::Embedding word_embeddings{nullptr};        // (V, C)
  torch::nn::Embedding position_embeddings{nullptr};    // (P, C)
  torch::nn::Embedding token_type_embeddings{nullptr};  // (type_vocab_size, C)
  torch::nn::LayerNorm LayerNorm{nullptr};              // NOLINT(readability-identifier-naming): HF's name
};
TORCH_MODULE(BertEmbeddings);

// bert.encoder: holds `layer`, so block names are HF's bert.encoder.layer.N.
class BertEncoderImpl : public torch::nn::Cloneable<BertEncoderImpl> {
 public:
  explicit BertEncoderImpl(BertConfig cfg);
  void reset() override;
  BertConfig cfg;
  torch::nn::ModuleList layer{nullptr};  // num_hidden_layers x BertLayer
};
TORCH_MODULE(BertEncoder);

// bert.pooler: tanh(dense(h[:, 0])) -> (B,C)
class BertPoolerImpl : public torch::nn::Cloneable<BertPoolerImpl> {
 public:
  explicit BertPoolerImpl(int64_t hidden_size);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& h);  // (B,T,C) -> (B,C)
  int64_t hidden_size;
  torch::nn::Linear dense{nullptr};  // (C, C)
};
TORCH_MODULE(BertPooler);

// The MLM head, HF's cls.predictions:
// logits = transform.LayerNorm(gelu(transform.dense(h))) @ word_embeddings^T + bias.
class BertMlmHeadImpl : public nn::PathCloneable<BertMlmHeadImpl> {
 public:
  explicit BertMlmHeadImpl(BertConfig cfg);
  void reset() override;
  void bind();  // the members <- the modules at their paths (PathCloneable)
  // h: (N,C), decoder: (V,C) word embeddings -> (N,V)
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& decoder);
  BertConfig cfg;
  torch::nn::Linear dense{nullptr};         // transform.dense: (C, C)
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT(readability-identifier-naming): transform.LayerNorm, HF's name
  torch::Tensor bias;                       // (V)
};
TORCH_MODULE(BertMlmHead);

// The "bert" trunk, a child module so parameter names carry HF's "bert." prefix.
class BertTrunkImpl : public torch::nn::Cloneable<BertTrunkImpl> {
 public:
  explicit BertTrunkImpl(BertConfig cfg);
  void reset() override;
  BertConfig cfg;
  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};
};
TORCH_MODULE(BertTrunk);

class BertImpl : public ModelImpl {
 public:
  explicit BertImpl(BertConfig cfg);
  std::string family() const override { return "bert"; }
  // HF BertConfig names, model_type bert; architectures BertForMaskedLM or
  // BertForSequenceClassification (+ id2label/label2id).
  nlohmann::json config_json() const override;
  YAML::Node config_yaml() const override;
  TensorMap forward(const TensorMap& batch) override;
  // Final hidden states (B,T,C) of the encoder.
  torch::Tensor encode(const torch::Tensor& ids, const torch::Tensor& types, const torch::Tensor& attention_mask);
  bool no_weight_decay(const std::string& name, const torch::Tensor& p) const override;
  double flops_per_unit() const override { return 0; }  // units are masked tokens or examples: no fixed cost
  int64_t context_length() const override { return cfg_.max_position_embeddings; }
  int64_t vocab_size() const override { return cfg_.vocab_size; }
  int64_t num_blocks() const override { return cfg_.num_hidden_layers; }
  // bert.embeddings.*: embedding (word embeddings are the tied MLM decoder), layer N: block N,
  // pooler, cls.predictions.*, classifier: head.
  ParamPlace param_place(const std::string& name) const override;
  std::vector<std::string> class_names() const override { return class_names_; }
  // Replaces the MLM head (or the classifier) by a fresh classifier with names.size() outputs.
  void set_classes(const std::vector<std::string>& names, bool new_head) override;
  bool can_classify() const override { return true; }
  const BertConfig& config() const { return cfg_; }
  bool is_classifier() const { return cfg_.num_classes > 0; }

  BertTrunk bert{nullptr};
  BertMlmHead cls{nullptr};             // masked-LM models (num_classes 0), at cls.predictions
  torch::nn::Linear classifier{nullptr};  // classifiers: (num_classes, C)

 private:
  void build_heads();
  BertConfig cfg_;
  std::vector<std::string> class_names_;
};

// config.json (HF BertConfig names) <-> BertConfig without building a model. The reader accepts
// hidden_act "gelu" only and position_embedding_type "absolute" only, takes num_classes from
// id2label when architectures names a sequence classifier, validates, and names `source` in errors.
BertConfig bert_config_from_json(const nlohmann::json& j, const std::string& source);
nlohmann::json bert_config_json(const BertConfig& c, const std::vector<std::string>& class_names);  // config_json()

ModelFamily bert_family();

}  // namespace ptft
