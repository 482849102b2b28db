#include "ptft/train/run.h"

#include <fnmatch.h>
#include <torch/torch.h>

#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/env.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/signals.h"
#include "ptft/train/run_config.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  if (s.find_first_of(" \t'\"$\\*?;&|<>()") == std::string::npos && !s.empty()) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

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

// Freezes parameters whose names match any glob; errors on a pattern that matches nothing.
void apply_freeze(ModelImpl& model, const std::vector<std::string>& patterns, const config::Document& doc) {
  for (const auto& pat : patterns) {
    int matched = 0;
    for (auto& np : model.named_parameters(true)) {
      if (::fnmatch(pat.c_str(), np.key().c_str(), 0) == 0) {
        np.value().set_requires_grad(false);
        ++matched;
      }
    }
    if (matched == 0) {
      std::string names;
      int shown = 0;
      for (auto& np : model.named_parameters(true))
        if (shown++ < 6) names += np.key() + " ";
      throw UserError(doc.origin_of("finetune.freeze") + ": finetune.freeze pattern '" + pat +
                          "' matches no parameter",
                      "parameter names look like: " + names);
    }
  }
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : n) j.push_back(yaml_to_json(e));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& v = n.Scalar();
      if (n.Tag() == "!") return v;  // quoted in the YAML: a string
      if (v == "true" || v == "false") return v == "true";
      try {
        size_t used = 0;
        long long i = std::stoll(v, &used);
        if (used == v.size()) return i;
        double d = std::stod(v, &used);
        if (used == v.size()) return d;
      } catch (const std::exception&) {
      }
      return v;
    }
    default: return nullptr;
  }
}

}  // namespace

RunOutcome run_training(const RunRequest& req) {
  RunOutcome outcome;
  const std::string run_dir = req.out.empty() ? default_run_dir(req) : req.out;
  outcome.run_dir = run_dir;
  config::Document doc = load_document(req, run_dir);
  RunConfig cfg;
  config::bind(doc, cfg);
  if (!cfg.model || !cfg.model.IsMap()) {
    if (req.command == "pretrain")
      throw UserError(doc.source() + ": no 'model' section", "add e.g. `model: {family: mlp}`");
  }
  const bool finetune = req.command == "finetune";
  if (finetune && cfg.finetune.from.empty())
    throw UserError("finetune needs a checkpoint to start from", "pass --from CKPT_DIR (or set finetune.from)");
  if (cfg.data.train.empty())
    throw UserError(doc.source() + ": data.train is not set", "set data.train in the config or --set data.train=PATH");

  // Run directory: a fresh one, or an existing one only with --resume (nothing is overwritten).
  std::error_code ec;
  const std::string ckpt_root = run_dir + "/checkpoints";
  const bool has_ckpts = sfs::exists(ckpt_root, ec) && !sfs::is_empty(ckpt_root, ec);
  if (!req.resume && (has_ckpts || sfs::exists(run_dir + "/metrics.jsonl", ec)))
    throw UserError("run directory '" + run_dir + "' already holds a run",
                    "continue it with --resume, or choose another --out");

  // Runtime: threads, device, precision — and say what we run on.
  set_threads(static_cast<int>(cfg.train.threads));
  const c10::Device device = resolve_device(cfg.train.device);
  const Precision precision = resolve_precision(cfg.train.precision, device);
  const EnvInfo env = collect_env();
  if (!req.quiet) {
    log_info(env_text(env) + "device: " + device.str() + " | precision: " + precision.name);
  }
  torch::manual_seed(static_cast<uint64_t>(cfg.train.seed));

  // Model: fresh from the config, or the architecture and weights of a checkpoint.
  ModelPtr model;
  std::string from_dir;
  if (finetune) {
    from_dir = cfg.finetune.from;
    Checkpoint src = read_checkpoint(from_dir, /*with_training_state=*/false);
    model = model_from_config_json(src.config, from_dir + "/config.json");
    load_into(*model, src.model, from_dir + "/model.safetensors", /*strict=*/true);
    if (cfg.model && cfg.model.IsMap() && cfg.model["family"] &&
        cfg.model["family"].as<std::string>() != model->family())
      throw UserError(doc.origin_of("model.family") + ": model.family is '" + cfg.model["family"].as<std::string>() +
                          "' but checkpoint '" + from_dir + "' holds a '" + model->family() + "' model",
                      "remove the model section (fine-tuning uses the checkpoint's architecture)");
  } else {
    model = create_model(doc, "model");
  }
  const ModelFamily& family = find_model_family(model->family(), "model.family");
  const std::string task_name = cfg.task.empty() ? family.default_task : cfg.task;
  TaskPtr task = create_task(task_name, doc.origin_of("task"));
  if (finetune) apply_freeze(*model, cfg.finetune.freeze, doc);

  // Data.
  DataContext dctx;
  dctx.seed = static_cast<uint64_t>(cfg.train.seed);
  dctx.block_size = model->context_length();  // token windows for sequence models
  dctx.vocab_size = model->vocab_size();
  auto train_src = open_data_source(cfg.data.train, "train", dctx, "data.train");
  std::unique_ptr<DataSource> val_src;
  if (!cfg.data.val.empty()) val_src = open_data_source(cfg.data.val, "val", dctx, "data.val");

  // Optimizer over trainable parameters only.
  std::vector<ParamGroup> groups =
      default_param_groups(*model, cfg.train.weight_decay, [](const std::string&) { return 1.0; });
  if (groups.empty())
    throw UserError("no trainable parameters", "finetune.freeze froze every parameter; freeze fewer");
  OptimConfig ocfg;
  ocfg.type = cfg.train.optimizer;
  ocfg.beta1 = cfg.train.beta1;
  ocfg.beta2 = cfg.train.beta2;
  ocfg.eps = cfg.train.eps;
  ocfg.momentum = cfg.train.momentum;
  auto optimizer = make_optimizer(ocfg, groups);

  // Resume: weights, optimizer, trainer state and RNG from checkpoints/last.
  std::optional<Checkpoint> resume;
  if (req.resume) {
    CheckpointSet probe(ckpt_root, static_cast<int>(cfg.train.keep_checkpoints));
    if (auto last = probe.last_dir()) {
      try {
        resume = read_checkpoint(*last, true);
        load_into(*model, resume->model, *last + "/model.safetensors", true);
      } catch (const UserError& e) {
        throw UserError("cannot resume from '" + *last + "': " + e.message(),
                        "that checkpoint is damaged; nothing was changed. Resume from an earlier one by "
                        "pointing the link at it: ln -sfn step-NNNNNNNN " + ckpt_root + "/last");
      }
    } else if (!req.quiet) {
      log_info("no checkpoint in " + ckpt_root + " yet: starting from step 0");
    }
  }

  // Only now, with everything validated, does the run directory appear.
  sfs::create_directories(run_dir, ec);
  if (ec) throw UserError("cannot create run directory '" + run_dir + "': " + ec.message(),
                          "check that the parent directory is writable");

  // The resolved config: every default filled in; re-running with it reproduces this run.
  YAML::Node resolved = config::to_yaml(cfg);
  resolved["model"] = model->config_yaml();
  resolved["task"] = task_name;
  if (!req.resume || !sfs::exists(run_dir + "/config.yaml", ec))
    fs::write_file_atomic(run_dir + "/config.yaml", config::emit(resolved));

  MetricsLog metrics(run_dir + "/metrics.jsonl");
  const int64_t total_params = count_parameters(*model, false);
  const int64_t trainable = count_parameters(*model, true);
  metrics.write({{"event", "start"},
                 {"command", req.command},
                 {"env", env_json(env)},
                 {"device", device.str()},
                 {"precision", precision.name},
                 {"config", yaml_to_json(resolved)},
                 {"parameters", total_params},
                 {"trainable_parameters", trainable}});
  if (!req.quiet)
    log_info(req.command + ": " + model->family() + " model, " + std::to_string(total_params) + " parameters (" +
             std::to_string(trainable) + " trainable), task " + task_name + ", data " + train_src->describe() +
             "\nrun directory: " + run_dir);

  TrainerContext tctx;
  tctx.run_dir = run_dir;
  tctx.metrics = &metrics;
  tctx.device = device;
  tctx.precision = precision;
  tctx.quiet = req.quiet;
  tctx.checkpoint_config = model->config_json();
  tctx.checkpoint_config["ptft"]["family"] = model->family();
  tctx.checkpoint_config["ptft"]["task"] = task_name;
  tctx.checkpoint_config["ptft"]["version"] = PTFT_VERSION;
  if (finetune) tctx.checkpoint_config["ptft"]["finetuned_from"] = from_dir;
  tctx.resume_command = "ptft " + req.command + " --config " + shell_quote(run_dir + "/config.yaml") + " --out " +
                        shell_quote(run_dir) + " --resume";

  StopSignals::install();
  Trainer trainer(cfg.train, tctx);
  outcome.fit = trainer.fit(*model, *task, *train_src, val_src.get(), *optimizer, resume ? &*resume : nullptr);

  const FitResult& r = outcome.fit;
  nlohmann::json summary = {{"command", req.command},
                            {"steps", r.step},
                            {"interrupted", r.interrupted},
                            {"early_stopped", r.early_stopped},
                            {"best_step", r.best_step},
                            {"metric", cfg.train.metric},
                            {"best_metric", r.best_step >= 0 ? nlohmann::json(r.best_metric) : nlohmann::json(nullptr)},
                            {"last_eval", r.last_eval},
                            {"wall_seconds", r.wall_seconds},
                            {"parameters", total_params},
                            {"trainable_parameters", trainable},
                            {task->unit() + "_seen", r.units_seen}};
  fs::write_file_atomic(run_dir + "/summary.json", summary.dump(2) + "\n");
  metrics.write({{"event", "end"}, {"summary", summary}});
  if (!req.quiet && !r.interrupted) {
    std::string line = "done: " + std::to_string(r.step) + " steps in " + std::to_string(r.wall_seconds) + " s";
    if (r.best_step >= 0)
      line += "; best " + cfg.train.metric + " " + std::to_string(r.best_metric) + " at step " +
              std::to_string(r.best_step) + " (" + ckpt_root + "/best)";
    log_info(line);
  }
  return outcome;
}

}  // namespace ptft
