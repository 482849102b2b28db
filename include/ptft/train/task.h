// ptft/train/task.h — what is optimised: binds a batch format, a loss and metrics.
//
// The Trainer calls loss_sum() on micro-batches and divides by the units of the whole effective
// batch (examples, or target tokens), so accumulation and data-parallel splits are exact.
//
//   TaskPtr task = create_task("classification");
//   torch::Tensor s = task->loss_sum(model, batch);     // scalar: sum of per-unit losses
//   auto acc = task->new_eval();  for (...) acc->add(model, batch);  json m = acc->result();
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ptft/data/data_source.h"
#include "ptft/models/model.h"

namespace ptft {

// Accumulates evaluation metrics over batches; result() has at least {"loss": mean loss}.
class EvalAccumulator {
 public:
  virtual ~EvalAccumulator() = default;
  virtual void add(ModelImpl& model, const Batch& batch) = 0;
  virtual nlohmann::json result() const = 0;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // Sum (not mean) of the per-unit losses of the batch: a scalar with grad.
  virtual torch::Tensor loss_sum(ModelImpl& model, const Batch& batch) = 0;
  virtual std::unique_ptr<EvalAccumulator> new_eval() const = 0;
  // Word for the loss units in logs ("examples", "tokens").
  virtual std::string unit() const { return "examples"; }
  // Named parts of the training loss (detection: "box_loss", "cls_loss"), each the mean per
  // unit over the loss_sum calls since the last call, which resets them. Empty for tasks whose
  // loss has one part. The Trainer adds them to its train log events.
  virtual std::map<std::string, double> take_loss_components() { return {}; }
};
using TaskPtr = std::shared_ptr<Task>;

// One line per task in src/train/task_registry.cpp.
TaskPtr create_task(const std::string& name, const std::string& where);
std::vector<std::string> task_names();

}  // namespace ptft
