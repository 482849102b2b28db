// ptft/infer/text_classifier.h — a trained text classifier ready to use: labels for texts
// (`ptft predict --text`), metrics on a labelled JSONL file (`ptft eval`).
//
// A BERT checkpoint fine-tuned on classification JSONL (ptft/data/text_classification.h) holds
// its class names (config.json id2label) and its tokenizer (tokenizer/); texts are encoded as in
// training: [CLS] text [SEP] (or a pair: [CLS] a [SEP] b [SEP]), cut to the model's context.
//
//   TextClassifier clf = load_text_classifier("runs/fortunes");
//   auto preds = predict_texts(clf, {{"The court dismissed the appeal.", std::nullopt}}, /*top_k=*/3, 32);
//   preds[0].top[0].first;   // "law"; .second: its probability
//   nlohmann::json m = evaluate_text_classifier(clf, "data/fortunes/test.jsonl", 64);
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ptft/data/text_classification.h"
#include "ptft/infer/class_scores.h"
#include "ptft/infer/pretrained.h"

namespace ptft {

struct TextClassifier {
  Pretrained pretrained;             // model in eval mode + its tokenizer
  ClassificationSpecials specials;   // [CLS] [SEP] [PAD] ids
  std::vector<std::string> classes;  // output i is classes[i]
  int64_t max_len = 0;               // the model's context
};

// Loads a checkpoint / run directory / Hugging Face BERT classifier (see pretrained.h).
// UserError: not a classifier, no tokenizer, a tokenizer without BERT's specials.
TextClassifier load_text_classifier(const std::string& path);
// The same for a model already loaded.
TextClassifier as_text_classifier(Pretrained pretrained);

struct TextInput {
  std::string text;                 // text, or text_a of a pair
  std::optional<std::string> pair;  // text_b
};

struct TextPrediction {
  TextInput input;
  ClassScores top;  // (class, probability), most likely first
  bool truncated = false;
};

// Probabilities of each text's classes, the `top_k` most likely (all when top_k <= 0).
std::vector<TextPrediction> predict_texts(const TextClassifier& clf, const std::vector<TextInput>& texts, int64_t top_k,
                                          int64_t batch_size);

// Classification metrics over every row of a labelled JSONL file (labels must be the model's
// classes: a row with another label is a UserError naming file:line).
nlohmann::json evaluate_text_classifier(const TextClassifier& clf, const std::string& jsonl, int64_t batch_size);

}  // namespace ptft
