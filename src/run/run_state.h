// src/run/run_state.h (private to src/run/) — the phases of run_training (ptft/run/run.h) and
// what they hand on to each other. run_training calls them in this order; each phase reads what
// the earlier ones set and fills its own part of RunState:
//
//   read_config → check_config → start_runtime                       (run.cpp)
//   load_model → attach_tokenizer → choose_task                      (run_model.cpp)
//   open_train_data → apply_transfer_plan → open_eval_data           (run_data.cpp)
//   prepare_optimizer                                                (run_trainer.cpp)
//   read_resume                                                      (run_resume.cpp)
//   write_run_start → fit_model                                      (run_trainer.cpp)
//   write_summary                                                    (run_summary.cpp)
//
// Their order is part of the behaviour: every check that can fail runs before the run directory
// appears (write_run_start), and errors come in the order users and tests know.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ptft/core/config.h"
#include "ptft/core/device.h"
#include "ptft/core/env.h"
#include "ptft/core/log.h"
#include "ptft/data/chat_template.h"
#include "ptft/data/data_source.h"
#include "ptft/data/image_source.h"
#include "ptft/dist/launch_env.h"
#include "ptft/dist/process_group.h"
#include "ptft/io/checkpoint.h"
#include "ptft/models/model.h"
#include "ptft/run/run.h"
#include "ptft/run/run_config.h"
#include "ptft/tokenizer/tokenizer.h"
#include "ptft/train/optimizer.h"
#include "ptft/train/precision_probe.h"
#include "ptft/train/task.h"
#include "ptft/transfer/transfer_plan.h"

namespace ptft {

struct RunState {
  explicit RunState(const RunRequest& r) : req(r) {}
  const RunRequest& req;

  // config
  LaunchEnv launch;               // which data-parallel process this is; only rank 0 talks and writes
  bool quiet = false;
  bool finetune = false;          // `ptft finetune`
  bool user_num_classes = false;  // the config sets model.num_classes (not a preset)
  std::string run_dir, ckpt_root;
  config::Document doc;
  RunConfig cfg;
  // runtime
  c10::Device device = torch::kCPU;
  Precision precision;
  std::optional<PrecisionProbe> precision_probe;  // precision: auto, measured (run_precision.cpp)
  EnvInfo env;
  std::unique_ptr<ProcessGroup> group;  // data-parallel only
  // model
  ModelPtr model;
  TokenizerPtr tokenizer;
  std::string from_dir;          // finetune: the checkpoint directory
  nlohmann::json from_config;    // finetune: its config.json
  std::string backbone_note;     // a new model whose backbone came from the checkpoint
  std::string task_name;
  TaskPtr task;
  // data
  DataContext dctx;
  std::shared_ptr<const ChatTemplate> chat;
  bool detection_data = false;
  std::vector<std::string> data_classes;  // classification data: its classes
  std::string head_change;                // the model's head changed to the data's classes
  std::optional<TransferPlan> plan;       // finetune
  std::unique_ptr<DataSource> train_src, val_src, general_src;
  const ImageSource* image_src = nullptr;  // train_src when it is image data (no replay mix)
  // trainer
  std::vector<ParamGroup> groups;
  std::unique_ptr<Optimizer> optimizer;
  std::optional<Checkpoint> resume;  // --resume: checkpoints/last
  std::optional<FitResult> finished;  // --resume of a run that already ended: what it recorded
  YAML::Node resolved;               // the resolved config (RUN_DIR/config.yaml)
  MetricsLog metrics;                // stays closed (writes nothing) on ranks other than 0
  int64_t total_params = 0, trainable = 0;
};

// run.cpp
void read_config(RunState& s);
void check_config(RunState& s);
void start_runtime(RunState& s);
// run_model.cpp
void load_model(RunState& s);
void attach_tokenizer(RunState& s);
void choose_task(RunState& s);
// run_data.cpp
void open_train_data(RunState& s);
void apply_transfer_plan(RunState& s);
void open_eval_data(RunState& s);
// run_trainer.cpp
void prepare_optimizer(RunState& s);
// run_resume.cpp
void read_resume(RunState& s);
// run_precision.cpp
void settle_precision(RunState& s);
// run_trainer.cpp
void write_run_start(RunState& s);
FitResult fit_model(RunState& s);
// run_summary.cpp
void write_summary(RunState& s, const FitResult& r);

}  // namespace ptft
