// ptft/eval/detection_eval.h — `ptft eval` of a detector on a data.yaml split: the detection
// task's evaluation (losses, COCO mAP50 / mAP50-95, per-class AP, precision / recall at
// confidence 0.25; ptft/train/detection_task.h) over the letterboxed images of the split.
//
//   nlohmann::json m = evaluate_detector(*model, "data/scenes/data.yaml", "val", 16);
//   m["map50_95"], m["per_class"][c]["ap50"], ...
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ptft/models/model.h"

namespace ptft {

// `model` must be a yolo detector (UserError otherwise); split: train | val | test of the data.yaml.
nlohmann::json evaluate_detector(ModelImpl& model, const std::string& data_yaml, const std::string& split,
                                 int64_t batch_size);

}  // namespace ptft
