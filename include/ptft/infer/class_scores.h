// ptft/infer/class_scores.h — what every classifier front end (images, text) does with its
// model's outputs: the k most likely classes per example, and the classification metrics over a
// labelled data set.
//
//   auto tops = top_classes(logits, clf.classes, /*k=*/3);      // tops[i][0]: (name, probability)
//   nlohmann::json m = evaluate_classifier(*model, src, classes, /*batch_size=*/64);
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ptft/data/data_source.h"
#include "ptft/models/model.h"

namespace ptft {

using ClassScores = std::vector<std::pair<std::string, double>>;  // (class, probability), most likely first

// Softmax of `logits` (B, C) and its `k` largest entries per row (all when k <= 0 or k > C).
std::vector<ClassScores> top_classes(const torch::Tensor& logits, const std::vector<std::string>& classes, int64_t k);

// Loss, accuracy, macro-F1, per-class metrics and confusion (ptft/train/classification_task.h)
// of `model` over every evaluation batch of `src`, plus "classes".
nlohmann::json evaluate_classifier(ModelImpl& model, DataSource& src, const std::vector<std::string>& classes,
                                   int64_t batch_size);

}  // namespace ptft
