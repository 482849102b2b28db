// ptft/run/run_config.h — the whole run configuration (YAML; `--set section.key=value`).
//
//   model:    {family: mlp, in_features: 2, hidden: [64, 64], num_classes: 3}
//   task:     classification            # "" = the family's default task
//   data:     {train: "synthetic:spirals", val: "synthetic:spirals"}
//   train:    {steps: 2000, batch_size: 16, lr: 3.0e-4, ...}     (see train_config.h)
//   finetune: {from: CKPT, strategy: full|freeze|head|lora, ...}        (see transfer/transfer_plan.h)
#pragma once

#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "ptft/core/config.h"
#include "ptft/data/detection_config.h"
#include "ptft/data/image_config.h"
#include "ptft/train/train_config.h"
#include "ptft/transfer/transfer_plan.h"

namespace ptft {

struct DataConfig {
  std::string train;  // training data: a path, or synthetic:NAME[?k=v&...]
  std::string val;    // validation data; empty = no validation
  std::string chat_template;  // SFT: built-in template name or JSON file ("" = checkpoint's or ptft-chat)
  ImageDataConfig images;     // image data sets (data/image_config.h)
  DetectionDataConfig detection;  // object-detection data (data/detection_config.h)
  std::string tokenizer;      // tokenizer directory for text data when no checkpoint or shard directory brings one
  double mlm_probability = 0.15;  // masked LM: share of tokens selected for prediction (data/mlm_windows.h)
  template <class V> void visit(V& v) {
    v("train", train, "training data (path or synthetic:NAME)");
    v("val", val, "validation data; empty = none");
    v("chat_template", chat_template, "SFT JSONL: chat template name or JSON file; empty = the checkpoint's, else ptft-chat");
    v("tokenizer", tokenizer, "tokenizer directory for text data (JSONL) when neither finetune.from nor token shards bring one");
    v("mlm_probability", mlm_probability, "masked LM (task masked_lm): share of tokens selected for prediction");
    v("images", images, "image data: classes, splits, size, normalisation, augmentation");
    v("detection", detection, "object-detection data (data.yaml): input size, mosaic, flips, HSV, scale/translate");
  }
};

struct RunConfig {
  YAML::Node model;        // family + architecture, bound by the family (models/model.h)
  std::string task;        // "" = the family's default
  DataConfig data;
  TrainConfig train;
  TransferConfig finetune;
  template <class V> void visit(V& v) {
    v("model", model, "model family and architecture");
    v("task", task, "task; empty = the family's default");
    v("data", data, "data sources");
    v("train", train, "training loop");
    v("finetune", finetune, "transfer from a checkpoint");
  }
};

}  // namespace ptft
