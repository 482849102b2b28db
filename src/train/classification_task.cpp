#include "ptft/train/classification_task.h"

#include "ptft/core/error.h"

namespace ptft {
namespace {

const torch::Tensor& field(const Batch& b, const char* name) {
  auto it = b.data.find(name);
  PTFT_CHECK(it != b.data.end(), std::string("classification batch has no '") + name + "'");
  return it->second;
}

class ClassificationEval : public EvalAccumulator {
 public:
  void add(ModelImpl& model, const Batch& batch) override {
    auto logits = model.forward(batch.data).at("logits").to(torch::kFloat);  // (B, C)
    const auto& y = field(batch, "y");                                       // (B)
    loss_sum_ += torch::nn::functional::cross_entropy(
                     logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                     .item<double>();
    correct_ += logits.argmax(1).eq(y).sum().item<int64_t>();
    count_ += y.size(0);
  }
  nlohmann::json result() const override {
    double n = count_ > 0 ? static_cast<double>(count_) : 1.0;
    return {{"loss", loss_sum_ / n}, {"accuracy", correct_ / n}, {"examples", count_}};
  }

 private:
  double loss_sum_ = 0;
  int64_t correct_ = 0, count_ = 0;
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
