// The trainer phases of run_training (run_state.h): optimizer, the run directory and its start
// event, and the Trainer with the context that carries the run into the loop.
#include <cstdlib>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/shell.h"
#include "ptft/core/signals.h"
#include "ptft/infer/image_classifier.h"
#include "ptft/train/trainer.h"
#include "ptft/transfer/lora.h"
#include "run_state.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

// A data path made absolute (a later fine-tune finds it from anywhere); "synthetic:..." specs as they are.
std::string absolute(const std::string& p) {
  if (p.rfind("synthetic:", 0) == 0) return p;
  std::error_code ec;
  auto a = sfs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

// config.json of every checkpoint: the model's, and what the run knows about it.
nlohmann::json checkpoint_config(const RunState& s) {
  nlohmann::json ck = s.model->config_json();
  ck["ptft"]["family"] = s.model->family();
  ck["ptft"]["task"] = s.task_name;
  ck["ptft"]["version"] = PTFT_VERSION;
  const DataConfig& data = s.cfg.data;
  ck["ptft"]["data"] = {{"train", absolute(data.train)}, {"val", data.val.empty() ? "" : absolute(data.val)}};
  if (s.finetune) {
    ck["ptft"]["finetuned_from"] = s.from_dir;
    // What this model was pre-trained on stays the "general" data of later fine-tunes.
    const nlohmann::json& from = s.from_config;
    if (from.contains("ptft") && from["ptft"].contains("data"))
      ck["ptft"]["pretrain_data"] = from["ptft"].value("pretrain_data", from["ptft"]["data"]);
  }
  if (s.plan && s.plan->uses_lora()) ck["ptft"]["lora"] = s.plan->lora()->to_json();
  if (s.chat) ck["ptft"]["chat_template"] = s.chat->to_json();
  if (s.image_src)
    ck["ptft"]["images"] = image_record(s.image_src->preprocess(), {data.images.class_names, s.data_classes});
  return ck;
}

// What trains, on what: the advice of the overfitting alarm (train/overfit_advice.h).
OverfitContext overfit_context(const RunState& s) {
  OverfitContext o;
  if (s.finetune) o.finetune = s.cfg.finetune;
  o.parameters = s.total_params;
  o.trainable_parameters = s.trainable;
  o.train_examples = s.train_src->size();
  if (s.image_src) o.image_augment = s.cfg.data.images.augment;
  if (s.detection_data) o.detection = s.cfg.data.detection;
  for (const auto& kv : s.finetune ? YAML::Node() : s.model->config_yaml())  // a fine-tune keeps its dropout
    if (kv.first.as<std::string>().find("drop") != std::string::npos && kv.second.IsScalar())
      o.dropout.emplace_back("model." + kv.first.as<std::string>(), kv.second.as<double>());
  return o;
}

// The run as the Trainer sees it: where it writes, what a checkpoint holds, the transfer plan's
// hooks, extra evaluations, and how to resume it.
TrainerContext trainer_context(RunState& s) {
  TrainerContext tctx;
  tctx.run_dir = s.run_dir;
  tctx.metrics = &s.metrics;
  tctx.device = s.device;
  tctx.precision = s.precision;
  tctx.quiet = s.quiet;
  tctx.group = s.group.get();
  tctx.checkpoint_config = checkpoint_config(s);
  tctx.checkpoint_extras = [&s](const std::string& dir, ModelImpl& m) {
    if (s.tokenizer) {
      sfs::create_directories(dir + "/tokenizer");
      s.tokenizer->save(dir + "/tokenizer");
    }
    if (s.plan && s.plan->uses_lora()) save_peft_adapter(dir, m, *s.plan->lora(), absolute(s.from_dir));
  };
  if (s.plan) tctx.before_step = [&s](ModelImpl& m, int64_t step) { return s.plan->before_step(m, step); };
  if (s.general_src) tctx.extra_evals.emplace_back("general", s.general_src.get());
  tctx.eval_at_start = s.finetune;
  tctx.overfit = overfit_context(s);
  // Under `ptft launch`, the resume command is launched the same way (it sets PTFT_LAUNCHER).
  const char* launcher = std::getenv("PTFT_LAUNCHER");
  tctx.resume_command = (s.launch.distributed() && launcher ? std::string(launcher) + " -- " : shell_quote(s.req.program) + " ") +
                        s.req.command + " --config " + shell_quote(s.run_dir + "/config.yaml") + " --out " +
                        shell_quote(s.run_dir) + " --resume";
  if (!s.req.resume_command.empty()) tctx.resume_command = s.req.resume_command;
  tctx.stop_after_step = s.req.stop_after_step;
  return tctx;
}

}  // namespace

// Optimizer over the parameters that train (with a transfer plan: per-layer LRs and the
// parameters gradual unfreezing will add later).
void prepare_optimizer(RunState& s) {
  const TrainConfig& t = s.cfg.train;
  s.groups = s.plan ? s.plan->param_groups(*s.model, t.weight_decay)
                    : default_param_groups(*s.model, t.weight_decay, [](const std::string&) { return 1.0; });
  if (s.groups.empty()) throw UserError("no trainable parameters", "freeze fewer parameters");
  OptimConfig ocfg;
  ocfg.type = t.optimizer;
  ocfg.beta1 = t.beta1;
  ocfg.beta2 = t.beta2;
  ocfg.eps = t.eps;
  ocfg.momentum = t.momentum;
  s.optimizer = make_optimizer(ocfg, s.groups);
}

// The run directory (rank 0 writes it) with the resolved config, and the start event.
void write_run_start(RunState& s) {
  std::error_code ec;
  if (s.launch.is_main()) sfs::create_directories(s.run_dir, ec);
  if (ec) throw UserError("cannot create run directory '" + s.run_dir + "': " + ec.message(),
                          "check that the parent directory is writable");
  // The resolved config: every default filled in; re-running with it reproduces this run.
  s.resolved = config::to_yaml(s.cfg);
  s.resolved["model"] = s.model->config_yaml();
  s.resolved["task"] = s.task_name;
  if (s.launch.is_main() && (!s.req.resume || !sfs::exists(s.run_dir + "/config.yaml", ec)))
    fs::write_file_atomic(s.run_dir + "/config.yaml", config::emit(s.resolved));

  if (s.launch.is_main()) s.metrics.open(s.run_dir + "/metrics.jsonl");
  s.total_params = count_parameters(*s.model, false);
  for (const auto& g : s.groups)
    for (const auto& p : g.params) s.trainable += p.numel();
  nlohmann::json start = {{"event", "start"},
                          {"command", s.req.command},
                          {"env", env_json(s.env)},
                          {"device", s.device.str()},
                          {"world_size", s.launch.world_size},
                          {"precision", s.precision.name},
                          {"config", config::to_json(s.resolved)},
                          {"parameters", s.total_params},
                          {"trainable_parameters", s.trainable}};
  if (s.precision_probe)
    start["precision_probe"] = {{"fp32_ms", s.precision_probe->fp32_ms}, {"bf16_ms", s.precision_probe->bf16_ms}};
  if (s.plan) start["transfer"] = s.plan->to_json();
  if (s.tokenizer) start["tokenizer"] = {{"kind", s.tokenizer->kind()}, {"hash", s.tokenizer->content_hash()}};
  s.metrics.write(start);
  if (s.quiet) return;
  log_info(s.req.command + ": " + s.model->family() + " model, " + std::to_string(s.total_params) + " parameters (" +
           std::to_string(s.trainable) + " trainable), task " + s.task_name + ", data " + s.train_src->describe() +
           "\nrun directory: " + s.run_dir);
  if (!s.backbone_note.empty()) log_info(s.backbone_note);
  if (!s.head_change.empty()) log_info(s.head_change);
  if (s.plan) log_info(s.plan->describe());
  if (s.general_src) log_info("forgetting watch: general validation data " + s.general_src->describe());
}

FitResult fit_model(RunState& s) {
  TrainerContext tctx = trainer_context(s);
  // MFU needs a peak: the configured one, else what a matmul reaches here and now.
  TrainConfig train_cfg = s.cfg.train;
  if (train_cfg.peak_tflops <= 0 && s.model->flops_per_unit() > 0) {
    train_cfg.peak_tflops = measure_matmul_tflops(s.device, s.precision);
    s.metrics.write({{"event", "peak"}, {"peak_tflops", train_cfg.peak_tflops}, {"source", "measured matmul"},
                     {"precision", s.precision.name}});
    if (!s.quiet)
      log_info("MFU is relative to a measured " + s.precision.name + " matmul peak of " +
               std::to_string(train_cfg.peak_tflops * 1e3).substr(0, 6) + " GFLOP/s (set train.peak_tflops to use another)");
  }
  StopSignals::install();
  Trainer trainer(train_cfg, tctx);
  return trainer.fit(*s.model, *s.task, *s.train_src, s.val_src.get(), *s.optimizer, s.resume ? &*s.resume : nullptr);
}

}  // namespace ptft
