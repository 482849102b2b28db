#include "ptft/eval/detection_eval.h"

#include <torch/torch.h>

#include "ptft/core/error.h"
#include "ptft/data/detection_config.h"
#include "ptft/data/detection_source.h"
#include "ptft/models/detector.h"
#include "ptft/train/detection_task.h"

namespace ptft {

nlohmann::json evaluate_detector(ModelImpl& model, const std::string& data_yaml, const std::string& split,
                                 int64_t batch_size) {
  const auto* det = dynamic_cast<const DetectorImpl*>(&model);
  if (!det) throw UserError("evaluate_detector needs a yolo detector, got a " + model.family() + " model");
  if (batch_size < 1) throw UserError("--batch-size must be >= 1, got " + std::to_string(batch_size));
  DataContext ctx;
  auto cfg = std::make_shared<DetectionDataConfig>();
  cfg->size = det->config().image_size;
  ctx.detection = cfg;
  ctx.image_size = det->config().image_size;
  DetectionSource src(data_yaml, split, ctx);
  if (src.class_names() != model.class_names()) {
    std::string have, want;
    for (const auto& n : src.class_names()) have += (have.empty() ? "" : ", ") + n;
    for (const auto& n : model.class_names()) want += (want.empty() ? "" : ", ") + n;
    throw UserError("'" + data_yaml + "' names the classes [" + have + "] but the detector finds [" + want + "]",
                    "evaluate on data with the detector's classes, in its order (data.yaml `names`)");
  }
  DetectionTask task;
  auto acc = task.new_eval();
  torch::NoGradGuard ng;
  model.eval();
  for (int64_t i = 0; i < src.eval_batches(batch_size); ++i) acc->add(model, src.eval_batch(i, batch_size));
  nlohmann::json r = acc->result();
  r["data"] = data_yaml;
  r["split"] = split;
  return r;
}

}  // namespace ptft
