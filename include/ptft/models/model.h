// ptft/models/model.h — what every model family provides to the one Trainer.
//
// A model maps a batch of named tensors to named outputs (`logits`, ...). The Task turns those
// into a loss and metrics, so the Trainer never needs to know the family.
//
//   ModelPtr m = create_model(doc, "model");          // from the run config's `model:` section
//   TensorMap out = m->forward({{"x", x}});           // out["logits"]: (B, num_classes)
//   nlohmann::json cfg = m->config_json();            // written as config.json in checkpoints
//   ModelPtr m2 = model_from_config_json(cfg, "ckpt/config.json");
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "ptft/io/tensor_io.h"
#include "ptft/models/foreign_format.h"

namespace ptft {
namespace config {
class Document;
}

// Where a parameter sits in the network, for transfer plans (freeze the first N blocks,
// layer-wise LR decay, gradual unfreezing): input embeddings, block i of num_blocks(), or the
// output head (final norm and classifier).
struct ParamPlace {
  enum Kind { kEmbedding, kBlock, kHead } kind = kHead;
  int64_t block = -1;  // 0-based block index for kBlock
  bool tied_head = false;  // an input embedding that is also the output head (GPT's wte)
};

class ModelImpl : public torch::nn::Module {
 public:
  // Registry name: "mlp", "gpt", "bert", "resnet", "yolo".
  virtual std::string family() const = 0;
  // The architecture, in Hugging Face config.json names where HF has the model.
  virtual nlohmann::json config_json() const = 0;
  // The resolved `model:` section of the run config (family + every architecture key).
  virtual YAML::Node config_yaml() const = 0;
  virtual TensorMap forward(const TensorMap& batch) = 0;
  // Parameters that get no weight decay by default: biases, norm weights, embeddings.
  virtual bool no_weight_decay(const std::string& param_name, const torch::Tensor& p) const;
  // Floating-point operations of one forward pass per example/token, for MFU (0 = unknown).
  virtual double flops_per_unit() const { return 0; }
  // Whether the forward pass is mostly convolutions: `precision: auto` on a CPU then measures
  // bf16 against fp32 instead of taking bf16 (ptft/train/precision_probe.h).
  virtual bool convolutional() const { return false; }
  // Tokens per training window for sequence models (data sources cut windows of this length);
  // 0 for models that do not read token streams.
  virtual int64_t context_length() const { return 0; }
  // Token vocabulary of sequence models (token ids must be below it); 0 for other models.
  virtual int64_t vocab_size() const { return 0; }
  // Repeated blocks (transformer layers, MLP hidden layers, CNN stages) and where parameter
  // `name` sits among them. Families without blocks report every parameter as head.
  virtual int64_t num_blocks() const { return 0; }
  virtual ParamPlace param_place(const std::string& /*name*/) const { return {}; }
  // Classifier families: one name per output class (empty for non-classifiers).
  virtual std::vector<std::string> class_names() const { return {}; }
  // Whether set_classes can give this model a classifier head (a masked LM can become one).
  virtual bool can_classify() const { return !class_names().empty(); }
  // Names the classes; with a different count (or new_head) the output layer is replaced by a
  // freshly initialised one with names.size() outputs, on the old one's device and dtype (build
  // the optimizer afterwards). Non-classifiers: UserError.
  virtual void set_classes(const std::vector<std::string>& names, bool new_head);
  // Copies the backbone of a model of a family in ModelFamily::backbone_from (its weights,
  // `donor`; `source` names the file in errors) into this one; returns the number of tensors
  // copied. Families without a backbone to seed: UserError naming the family.
  virtual int64_t load_backbone(const TensorMap& donor, const std::string& source);
};
using ModelPtr = std::shared_ptr<ModelImpl>;

struct ModelFamily {
  std::string name;
  std::string default_task;   // task used when the run config names none
  // Builds from the run config's section at `prefix` (family/preset keys included).
  std::function<ModelPtr(const config::Document&, const std::string& prefix)> from_run_config;
  // Builds from a checkpoint's config.json (`source` names the file in errors).
  std::function<ModelPtr(const nlohmann::json&, const std::string& source)> from_config_json;
  // The formats of other tools it reads and writes, with its names in each (models/foreign_format.h).
  std::vector<ForeignFormat> formats;
  // Its checkpoints under former parameter names, converted when read (none: empty marker).
  LegacyNames legacy;
  PeftFacts peft;
  // The registry's model test suite (tests/models/family_suite_test.cpp) builds every family from
  // `tiny_architecture` (model-section keys as YAML flow map: "{n_layer: 2, ...}") and trains it on
  // `example_batch`: `examples` random examples its default task takes (fixed by `seed`).
  std::string tiny_architecture;
  std::function<TensorMap(const ModelImpl& model, int64_t examples, uint64_t seed)> example_batch;
  std::vector<std::string> backbone_from;  // families whose trained weights can seed this family's backbone (yolo: resnet)
  // The special tokens of a tokenizer trained for this family (`ptft tokenizer train --family`,
  // tokenizer/sentencepiece_tokenizer.h: SpmSpecials), in id order; empty: the family reads no
  // text. The end-of-text one; the one SentencePiece uses as its unknown piece ("": an extra
  // <unk> at id 0, before them); the padding one ("": none).
  std::vector<std::string> tokenizer_specials;
  std::string tokenizer_eot;
  std::string tokenizer_unk;
  std::string tokenizer_pad;
};

// One line per architecture lives in src/models/registry.cpp.
const std::vector<ModelFamily>& model_families();
const ModelFamily& find_model_family(const std::string& name, const std::string& where);
// The family whose Hugging Face format reads config.json model_type `type` (null: none does).
const ModelFamily* find_hf_family(const std::string& type);
ModelPtr create_model(const config::Document& doc, const std::string& prefix);
ModelPtr model_from_config_json(const nlohmann::json& cfg, const std::string& source);
int64_t count_parameters(const torch::nn::Module& m, bool trainable_only);
// Registers a freshly initialised Linear(in of `old`, out_features) under `name` in `owner` in
// place of `old`, on its device and dtype (classifier heads in set_classes).
torch::nn::Linear replace_linear_head(torch::nn::Module& owner, const std::string& name, const torch::nn::Linear& old,
                                      int64_t out_features);
// The N of a parameter named "<prefix>N.<rest>" (e.g. prefix "transformer.h."), else -1.
int64_t block_index(const std::string& name, const std::string& prefix);

}  // namespace ptft
