#include "ptft/train/classification_task.h"

#include <optional>

#include "ptft/core/error.h"
#include "ptft/train/confusion.h"

namespace ptft {
namespace {

const torch::Tensor& field(const Batch& b, const char* name) {
  auto it = b.data.find(name);
  PTFT_CHECK(it != b.data.end(), std::string("classification batch has no '") + name + "'");
  return it->second;
}

// Loss, accuracy, top-5 accuracy (above 5 classes) and the confusion-matrix metrics
// (per-class precision/recall, macro-F1; the matrix itself up to kMaxMatrixClasses classes, so that
// a 1000-class eval event stays small).
class ClassificationEval : public EvalAccumulator {
 public:
  static constexpr int64_t kMaxMatrixClasses = 100;

  void add(ModelImpl& model, const Batch& batch) override {
    auto logits = model.forward(batch.data).at("logits").to(torch::kFloat);  // (B, C)
    const auto& y = field(batch, "y");                                       // (B)
    const int64_t C = logits.size(1);
    if (!cm_) cm_.emplace(C);
    loss_sum_ += torch::nn::functional::cross_entropy(
                     logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                     .item<double>();
    cm_->add(logits.argmax(1), y);
    if (C > 5) {
      auto top5 = std::get<1>(logits.topk(5, 1));                           // (B, 5)
      top5_ += top5.eq(y.unsqueeze(1)).any(1).sum().item<int64_t>();
    }
    count_ += y.size(0);
  }
  nlohmann::json result() const override {
    double n = count_ > 0 ? static_cast<double>(count_) : 1.0;
    nlohmann::json r = {{"loss", loss_sum_ / n}, {"examples", count_}};
    if (!cm_) return r;
    nlohmann::json m = cm_->to_json(cm_->num_classes() <= kMaxMatrixClasses);
    r["accuracy"] = m["accuracy"];
    if (cm_->num_classes() > 5) r["top5_accuracy"] = top5_ / n;
    r["macro_f1"] = m["macro_f1"];
    // Per-class arrays are not floats, so eval lines and best-metric selection skip them.
    r["per_class"] = {{"precision", m["precision"]}, {"recall", m["recall"]}, {"support", m["support"]}};
    if (m.contains("confusion")) r["confusion"] = m["confusion"];
    return r;
  }

 private:
  double loss_sum_ = 0;
  int64_t top5_ = 0, count_ = 0;
  std::optional<ConfusionMatrix> cm_;
};

}  // namespace

torch::Tensor ClassificationTask::loss_sum(ModelImpl& model, const Batch& batch) {
  auto logits = model.forward(batch.data).at("logits");  // (B, C)
  return torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat), field(batch, "y"),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
}

std::unique_ptr<EvalAccumulator> ClassificationTask::new_eval() const {
  return std::make_unique<ClassificationEval>();
}

}  // namespace ptft
