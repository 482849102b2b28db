// ptft/train/confusion.h — single-label classification metrics from a confusion matrix:
// accuracy, per-class precision / recall / F1, macro-F1, and a printable table.
//
//   ConfusionMatrix cm(num_classes);
//   cm.add(logits.argmax(1), y);                 // (B) predicted, (B) true class ids
//   nlohmann::json m = cm.to_json(/*with_matrix=*/true);
//   std::cerr << cm.table({"T-shirt/top", "Shirt"});
//
// Rows are true classes, columns predicted ones (as scikit-learn's confusion_matrix). A class
// with no predictions has precision 0, one with no examples recall 0 (scikit-learn's
// zero_division=0); macro-F1 averages the F1 of the classes that occur in the targets or the
// predictions.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptft {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes);
  // From to_json()'s "confusion" rows (square, non-negative counts); UserError otherwise.
  static ConfusionMatrix from_rows(const nlohmann::json& rows);

  // pred, target: (B) integer class ids in [0, num_classes).
  void add(const torch::Tensor& pred, const torch::Tensor& target);

  int64_t num_classes() const { return n_; }
  int64_t total() const;
  int64_t at(int64_t truth, int64_t pred) const { return counts_[truth * n_ + pred]; }
  double accuracy() const;
  double precision(int64_t c) const;
  double recall(int64_t c) const;
  double f1(int64_t c) const;
  double macro_f1() const;

  // {"accuracy", "macro_f1", "precision": [..], "recall": [..], "support": [..]} and, with
  // `with_matrix`, "confusion": [[...], ...] (rows = true class).
  nlohmann::json to_json(bool with_matrix) const;
  // Per-class precision/recall/F1/support lines and the matrix, named by `names` (ids when
  // empty); the matrix is left out above 20 classes.
  std::string table(const std::vector<std::string>& names) const;

 private:
  int64_t n_;
  std::vector<int64_t> counts_;  // n_ x n_, row-major
};

}  // namespace ptft
