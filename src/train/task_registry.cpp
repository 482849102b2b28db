// The task registry: one line per task.
#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/train/causal_lm_task.h"
#include "ptft/train/classification_task.h"
#include "ptft/train/detection_task.h"
#include "ptft/train/masked_lm_task.h"

namespace ptft {
namespace {
struct TaskEntry {
  const char* name;
  TaskPtr (*make)();
};
const TaskEntry kTasks[] = {
    {"classification", [] { return TaskPtr(std::make_shared<ClassificationTask>()); }},
    {"causal_lm", [] { return TaskPtr(std::make_shared<CausalLmTask>()); }},
    {"masked_lm", [] { return TaskPtr(std::make_shared<MaskedLmTask>()); }},
    {"detection", [] { return TaskPtr(std::make_shared<DetectionTask>()); }},
    {"sft", [] { return TaskPtr(std::make_shared<CausalLmTask>()); }},  // causal LM on chat data (*.jsonl)
};
}  // namespace

std::vector<std::string> task_names() {
  std::vector<std::string> v;
  for (const auto& t : kTasks) v.push_back(t.name);
  return v;
}

TaskPtr create_task(const std::string& name, const std::string& where) {
  for (const auto& t : kTasks)
    if (name == t.name) return t.make();
  auto names = task_names();
  std::string hint = "known tasks:";
  for (const auto& n : names) hint += " " + n;
  auto near = config::nearest(name, names);
  if (!near.empty()) hint = "did you mean '" + near + "'? " + hint;
  throw UserError(where + ": unknown task '" + name + "'", hint);
}

}  // namespace ptft
