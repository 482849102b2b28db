#include "ptft/run/run.h"

#include <torch/torch.h>

#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/run/strategy_search.h"
#include "run_state.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

config::Document load_document(const RunRequest& req, const std::string& run_dir) {
  std::string path = req.config_path;
  if (path.empty()) {
    if (req.resume && sfs::exists(run_dir + "/config.yaml")) path = run_dir + "/config.yaml";
    else
      throw UserError("no --config given",
                      "pass --config FILE.yaml (see configs/), or --resume --out RUN_DIR to continue a run");
  }
  config::Document doc = config::Document::from_file(path);
  for (const auto& s : req.sets) doc.set(s);
  if (!req.from.empty()) doc.set("finetune.from=" + req.from);
  return doc;
}

std::string default_run_dir(const RunRequest& req) {
  std::string stem = req.config_path.empty() ? req.command : sfs::path(req.config_path).stem().string();
  return "runs/" + stem;
}

}  // namespace

// Which process this is, where the run goes, and its config (file + --set overrides).
void read_config(RunState& s) {
  // Data-parallel: which process this is (torchrun's variables; one process without them).
  // Only rank 0 talks, writes the run directory and checks that it is free.
  s.launch = read_launch_env();
  s.quiet = s.req.quiet || !s.launch.is_main();
  if (!s.launch.is_main()) set_log_enabled(false);
  s.run_dir = s.req.out.empty() ? default_run_dir(s.req) : s.req.out;
  s.ckpt_root = s.run_dir + "/checkpoints";
  s.doc = load_document(s.req, s.run_dir);
  config::bind(s.doc, s.cfg);
  s.finetune = s.req.command == "finetune";
}

// What the command needs of the config, and a run directory that is free (or resumed).
void check_config(RunState& s) {
  const RunConfig& cfg = s.cfg;
  if (!cfg.model || !cfg.model.IsMap()) {
    if (s.req.command == "pretrain")
      throw UserError(s.doc.source() + ": no 'model' section", "add e.g. `model: {family: mlp}`");
  }
  // Before a preset fills the model section in: did the user set num_classes?
  const YAML::Node& model_section = cfg.model;
  s.user_num_classes = model_section && model_section.IsMap() && model_section["num_classes"];
  if (s.finetune && cfg.finetune.from.empty())
    throw UserError("finetune needs a checkpoint to start from", "pass --from CKPT_DIR (or set finetune.from)");
  if (cfg.data.train.empty())
    throw UserError(s.doc.source() + ": data.train is not set", "set data.train in the config or --set data.train=PATH");

  // Run directory: a fresh one, or an existing one only with --resume (nothing is overwritten).
  std::error_code ec;
  const bool has_ckpts = sfs::exists(s.ckpt_root, ec) && !sfs::is_empty(s.ckpt_root, ec);
  if (s.launch.is_main() && !s.req.resume && (has_ckpts || sfs::exists(s.run_dir + "/metrics.jsonl", ec)))
    throw UserError("run directory '" + s.run_dir + "' already holds a run",
                    "continue it with --resume, or choose another --out");
}

// Runtime: threads, device, precision — and say what we run on; the process group joined.
void start_runtime(RunState& s) {
  const TrainConfig& t = s.cfg.train;
  set_threads(static_cast<int>(t.threads));
  s.device = resolve_device(t.device);
  // One GPU per process: `cuda` (or auto) means cuda:LOCAL_RANK under a launcher; cuda:N stays.
  if (s.launch.distributed() && s.device.is_cuda() && (t.device == "auto" || t.device == "cuda"))
    s.device = resolve_device("cuda:" + std::to_string(s.launch.local_rank));
  s.precision = resolve_precision(t.precision, s.device);
  s.env = collect_env();
  if (!s.quiet && s.req.report_env) {  // device and precision follow in settle_precision
    std::string text = env_text(s.env);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    log_info(text);
  }
  // Every rank joins before anything else can fail on one of them alone: a rank that stops
  // early then shows in the others as a lost peer, not as a hang.
  if (s.launch.distributed()) {
    const LaunchEnv& l = s.launch;
    s.group = ProcessGroup::join(l, s.device, t.dist_timeout);
    if (!s.quiet)
      log_info("data-parallel: " + std::to_string(l.world_size) + " processes (" + s.group->backend() + ", " +
               l.master_addr + ":" + std::to_string(l.master_port) + "), " +
               std::to_string(t.batch_size * t.grad_accum * l.world_size) + " examples per step (train.batch_size " +
               std::to_string(t.batch_size) + " x grad_accum " + std::to_string(t.grad_accum) + " x " +
               std::to_string(l.world_size) + ")");
  }
  torch::manual_seed(static_cast<uint64_t>(t.seed));
}

RunOutcome run_training(const RunRequest& req) {
  RunState s(req);
  read_config(s);
  if (s.cfg.finetune.strategy == "auto") return run_strategy_search(req, s.doc, s.cfg, s.run_dir);
  check_config(s);
  start_runtime(s);
  load_model(s);  // fresh, from the checkpoint, or a new model on the checkpoint's backbone
  attach_tokenizer(s);
  choose_task(s);
  open_train_data(s);
  apply_transfer_plan(s);
  open_eval_data(s);
  prepare_optimizer(s);
  read_resume(s);
  settle_precision(s);
  RunOutcome outcome;
  outcome.run_dir = s.run_dir;
  if (s.finished) {  // --resume of a run that already ended: nothing to do, nothing rewritten
    outcome.fit = *s.finished;
    return outcome;
  }
  write_run_start(s);  // only now, with everything validated, does the run directory appear
  outcome.fit = fit_model(s);
  write_summary(s, outcome.fit);
  return outcome;
}

}  // namespace ptft
