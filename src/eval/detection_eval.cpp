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
  if (split != "train" && split != "val" && split != "test")
    throw UserError("--split '" + split + "' is not a split of a data.yaml", "use train, val or test");
  if (!is_detection_data_path(data_yaml))
    throw UserError("a yolo detector is evaluated on a data.yaml, but --data is '" + data_yaml + "'",
                    "pass the data.yaml of an Ultralytics-layout data set (its `names` = the detector's classes)");
  DataContext ctx;
  auto cfg = std::make_shared<DetectionDataConfig>();
  cfg->size = det->config().image_size;
  ctx.detection = cfg;
  ctx.image_size = det->config().image_size;
  ctx.classes = model.class_names();  // the source refuses data that names other classes
  DetectionSource src(data_yaml, split, ctx);
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
