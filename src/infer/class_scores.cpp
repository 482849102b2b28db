#include "ptft/infer/class_scores.h"

#include <algorithm>

#include "ptft/core/error.h"
#include "ptft/train/task.h"

namespace ptft {

std::vector<ClassScores> top_classes(const torch::Tensor& logits, const std::vector<std::string>& classes, int64_t k) {
  const auto C = static_cast<int64_t>(classes.size());
  PTFT_CHECK(logits.dim() == 2 && logits.size(1) == C, "classifier logits do not match its class names");
  k = k <= 0 ? C : std::min(k, C);
  auto probs = torch::softmax(logits.to(torch::kFloat), 1);
  auto [p, idx] = probs.topk(k, 1);  // (B, k)
  auto pa = p.accessor<float, 2>();
  auto ia = idx.accessor<int64_t, 2>();
  std::vector<ClassScores> out(static_cast<size_t>(logits.size(0)));
  for (int64_t r = 0; r < logits.size(0); ++r)
    for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(r)].emplace_back(classes[static_cast<size_t>(ia[r][j])], pa[r][j]);
  return out;
}

nlohmann::json evaluate_classifier(ModelImpl& model, DataSource& src, const std::vector<std::string>& classes,
                                   int64_t batch_size) {
  auto acc = create_task("classification", "eval")->new_eval();
  torch::NoGradGuard ng;
  for (int64_t i = 0; i < src.eval_batches(batch_size); ++i) acc->add(model, src.eval_batch(i, batch_size));
  nlohmann::json m = acc->result();
  m["classes"] = classes;
  return m;
}

}  // namespace ptft
