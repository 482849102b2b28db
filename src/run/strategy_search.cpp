#include "ptft/run/strategy_search.h"
#include "ptft/core/json_depth.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/log.h"
#include "ptft/core/shell.h"
#include "ptft/dist/launch_env.h"
#include "ptft/infer/pretrained.h"
#include "ptft/models/model_files.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

const char* const kSearchFile = "strategy_search.json";

std::string trial_dir(const std::string& run_dir, const std::string& strategy) {
  return run_dir + "/trials/" + strategy;
}

// The request of the run of `strategy` in `dir`: the search's own config and overrides plus the
// strategy's. A search resumed without --config reads the auto config RUN_DIR/config.yaml.
RunRequest strategy_request(const RunRequest& req, const std::string& run_dir, const std::string& strategy,
                            int64_t freeze_layers, const RunConfig& cfg, const std::string& dir) {
  RunRequest r = req;
  if (r.config_path.empty()) r.config_path = run_dir + "/config.yaml";
  for (auto& s : strategy_overrides(strategy, freeze_layers, cfg.finetune.auto_search, cfg.train.lr))
    r.sets.push_back(std::move(s));
  r.out = dir;
  r.resume = false;
  r.stop_after_step = 0;
  return r;
}

// What continues the search after an interrupt (a trial's own resume command would train the
// trial to train.steps).
std::string search_resume_command(const RunRequest& req, const RunConfig& cfg, const std::string& run_dir) {
  std::string c = shell_quote(req.program) + " finetune --config " + shell_quote(req.config_path.empty() ? run_dir + "/config.yaml" : req.config_path) +
                  " --from " + shell_quote(req.from.empty() ? cfg.finetune.from : req.from);
  for (const auto& s : req.sets) c += " --set " + shell_quote(s);
  return c + " --out " + shell_quote(run_dir) + " --resume";
}

// Blocks of the model in finetune.from (the freeze candidate's default freezes half of them).
// What the candidates need of the model in finetune.from: blocks to freeze (freeze), projections
// to adapt (lora; a ResNet has none).
struct CheckpointShape {
  int64_t blocks = 0;
  bool has_lora_targets = false;
};
CheckpointShape checkpoint_shape(const std::string& from) {
  try {
    Checkpoint c = read_checkpoint(resolve_checkpoint_dir(from), /*with_training_state=*/false);
    const ModelPtr m = model_from_checkpoint(c);
    return {m->num_blocks(), !linear_module_names(*m).empty()};
  } catch (const UserError& e) {
    throw e.with_context("finetune.strategy auto: reading finetune.from to fit the candidates to its model");
  }
}

// The trial in `dir` as its summary.json reports it; nullopt when it has not finished its
// `steps` (not started, interrupted, or failed before the end).
std::optional<StrategyTrial> finished_trial(const std::string& dir, const std::string& strategy, int64_t steps,
                                            std::string& metric) {
  std::error_code ec;
  const std::string path = dir + "/summary.json";
  if (!sfs::exists(path, ec)) return std::nullopt;
  nlohmann::json s;
  try {
    s = nlohmann::json::parse(read_json_text(path, "trial summary"));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": " + e.what(), "the trial's summary is damaged: remove " + dir + " to run the trial again");
  }
  const int64_t done = s.value("steps", int64_t{0});
  if (s.value("interrupted", false) || (done < steps && !s.value("early_stopped", false))) return std::nullopt;
  if (done > steps)
    throw UserError("strategy search: trial '" + strategy + "' (" + dir + ") trained " + std::to_string(done) +
                        " steps but finetune.auto.trial_steps is " + std::to_string(steps),
                    "resume with the trial_steps of the first run, or start the search again with another --out");
  metric = s.value("metric", metric);
  StrategyTrial t;
  t.strategy = strategy;
  t.trial_steps = done;
  t.trainable_parameters = s.value("trainable_parameters", int64_t{0});
  t.wall_seconds = s.value("wall_seconds", 0.0);
  const nlohmann::json& ev = s["last_eval"];
  if (ev.is_object() && ev.contains(metric) && ev[metric].is_number()) t.value = ev[metric].get<double>();
  else t.error = "no " + metric + " at step " + std::to_string(done);
  return t;
}

// RUN_DIR's checkpoints as hard links to the trial's files (checkpoint files are never written in
// place, so the two runs cannot change each other's), `last`/`best` as the same relative links.
void link_checkpoints(const std::string& from, const std::string& to) {
  sfs::create_directories(to);
  for (auto it = sfs::recursive_directory_iterator(from); it != sfs::recursive_directory_iterator(); ++it) {
    const sfs::path rel = it->path().lexically_relative(from);  // (relative() would follow the links)
    if (rel.string().find(".tmp-") != std::string::npos) {  // a checkpoint being written when killed
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    const sfs::path target = sfs::path(to) / rel;
    if (it->is_symlink()) {
      sfs::create_symlink(sfs::read_symlink(it->path()), target);
    } else if (it->is_directory()) {
      sfs::create_directories(target);
    } else {
      std::error_code ec;
      sfs::create_hard_link(it->path(), target, ec);
      if (ec) sfs::copy_file(it->path(), target);
    }
  }
  fs::fsync_dir(to);
}

// RUN_DIR takes the winner's trial as its beginning: checkpoints, metrics.jsonl, results.csv.
// Leftovers of a seeding that was killed half-way are replaced.
void seed_from_trial(const std::string& trial, const std::string& run_dir) {
  for (const char* name : {"checkpoints", "metrics.jsonl", "results.csv", "summary.json"})
    fs::remove_all_quiet(run_dir + "/" + name);
  try {
    link_checkpoints(trial + "/checkpoints", run_dir + "/checkpoints");
  } catch (const sfs::filesystem_error& e) {
    throw UserError("cannot link the checkpoints of '" + trial + "' into '" + run_dir + "': " + e.what(),
                    "check that the run directory is writable and has space");
  }
  for (const char* name : {"metrics.jsonl", "results.csv"})  // copies: the final run appends to them
    if (sfs::exists(trial + "/" + name))
      fs::write_file_atomic(run_dir + "/" + name, fs::read_file(trial + "/" + name, name));
}

}  // namespace

int64_t resolve_trial_steps(const AutoStrategyConfig& cfg, int64_t train_steps, const std::string& origin) {
  const int64_t k = cfg.trial_steps > 0 ? cfg.trial_steps : std::max<int64_t>(1, train_steps / 10);
  if (k >= train_steps)
    throw UserError(origin + ": finetune.auto.trial_steps is " + std::to_string(k) + " but train.steps is only " +
                        std::to_string(train_steps) + ": the trials would be the whole run",
                    "a trial is a short start of the run: e.g. --set finetune.auto.trial_steps=" +
                        std::to_string(std::max<int64_t>(1, train_steps / 10)) + " (0 = 10 % of train.steps)");
  return k;
}

std::optional<size_t> best_trial(const std::vector<StrategyTrial>& trials, const std::string& mode) {
  std::optional<size_t> best;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (!trials[i].value || !std::isfinite(*trials[i].value)) continue;
    const double v = *trials[i].value;
    if (!best || (mode == "max" ? v > *trials[*best].value : v < *trials[*best].value)) best = i;
  }
  return best;
}

std::vector<std::string> strategy_overrides(const std::string& strategy, int64_t freeze_layers,
                                            const AutoStrategyConfig& search, double lr) {
  std::vector<std::string> out = {"finetune.strategy=" + strategy,
                                  "finetune.freeze_layers=" + std::to_string(strategy == "freeze" ? freeze_layers : 0)};
  const double scale = strategy == "head" ? search.head_lr_scale : strategy == "lora" ? search.lora_lr_scale : 1.0;
  if (scale != 1.0) out.push_back("train.lr=" + config::format_number(lr * scale));
  return out;
}

std::optional<nlohmann::json> read_strategy_search(const std::string& run_dir) {
  const std::string path = run_dir + "/" + kSearchFile;
  std::error_code ec;
  if (!sfs::exists(path, ec)) return std::nullopt;
  try {
    return nlohmann::json::parse(read_json_text(path, "strategy search record"));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": " + e.what(), "the file is damaged; it is rewritten by running the search again "
                                            "in a new --out");
  }
}

nlohmann::json StrategySearch::to_json() const {
  nlohmann::json candidates = nlohmann::json::array();
  for (const auto& t : trials) {
    nlohmann::json c = {{"strategy", t.strategy},
                        {"trial_steps", t.trial_steps},
                        {"value", t.value ? nlohmann::json(*t.value) : nlohmann::json(nullptr)},
                        {"trainable_parameters", t.trainable_parameters},
                        {"wall_seconds", t.wall_seconds}};
    if (!t.error.empty()) c["error"] = t.error;
    candidates.push_back(c);
  }
  return {{"metric", metric}, {"mode", mode}, {"chosen", chosen}, {"candidates", candidates}};
}

std::string StrategySearch::table() const {
  std::string out = "strategy search on " + metric + " (" + (mode == "max" ? "higher" : "lower") + " is better):\n";
  char line[160];
  std::snprintf(line, sizeof line, "    %-8s %12s %7s %12s %9s\n", "strategy", "trainable", "steps", metric.c_str(),
                "wall s");
  out += line;
  for (const auto& t : trials) {
    const std::string value = t.value ? [&] {
      char b[32];
      std::snprintf(b, sizeof b, "%.5g", *t.value);
      return std::string(b);
    }() : std::string("diverged");
    std::snprintf(line, sizeof line, "  %s %-8s %12lld %7lld %12s %9.1f\n", t.strategy == chosen ? ">" : " ",
                  t.strategy.c_str(), static_cast<long long>(t.trainable_parameters),
                  static_cast<long long>(t.trial_steps), value.c_str(), t.wall_seconds);
    out += line;
  }
  return out;
}

RunOutcome run_strategy_search(const RunRequest& req, const config::Document& doc, const RunConfig& cfg,
                               const std::string& run_dir) {
  const std::string where = doc.origin_of("finetune.strategy") + ": finetune.strategy auto";
  if (req.command != "finetune")
    throw UserError(where + " compares fine-tuning strategies, but `ptft " + req.command +
                        "` trains from scratch and has none",
                    "use `ptft finetune --from CKPT`, or remove finetune.strategy");
  if (read_launch_env().distributed())
    throw UserError(where + " runs its trials in one process, not under ptft launch",
                    "run the search in one process, then fine-tune data-parallel with the strategy it chose "
                    "(RUN_DIR/strategy_search.json)");
  if (cfg.train.epochs > 0)
    throw UserError(where + " sizes its trials in optimizer steps, and the config sets train.epochs " +
                        config::detail::format_double(cfg.train.epochs),
                    "set train.steps instead (a run with train.epochs logs the steps it makes of them)");
  if (cfg.data.val.empty() && !(cfg.data.images.val_fraction > 0))
    throw UserError(where + " needs validation data to compare strategies, and data.val is empty (" +
                        doc.origin_of("data.val") + ")",
                    "set data.val (--set data.val=PATH: token shards or files held out from the training data), or "
                    "for image data data.images.val_fraction to hold out part of data.train");
  const int64_t trial_steps =
      resolve_trial_steps(cfg.finetune.auto_search, cfg.train.steps, doc.origin_of("finetune.auto.trial_steps"));
  std::error_code ec;
  if (!req.resume && (sfs::exists(run_dir + "/trials", ec) || sfs::exists(run_dir + "/metrics.jsonl", ec) ||
                      sfs::exists(run_dir + "/checkpoints", ec)))
    throw UserError("run directory '" + run_dir + "' already holds a run",
                    "continue it with --resume, or choose another --out");
  const bool quiet = req.quiet;
  const std::optional<nlohmann::json> seeded = read_strategy_search(run_dir);

  // The freeze candidate: finetune.freeze_layers, else half the model's blocks. A candidate the
  // model cannot take (freeze without blocks, lora without projections) is an error when the
  // user listed it, and left out of the default list with a warning.
  std::vector<std::string> candidates = cfg.finetune.auto_search.candidates;
  int64_t freeze_layers = cfg.finetune.freeze_layers;
  auto has = [&](const char* c) { return std::find(candidates.begin(), candidates.end(), c) != candidates.end(); };
  if (!seeded && ((has("freeze") && freeze_layers == 0) || has("lora"))) {
    const CheckpointShape shape = checkpoint_shape(cfg.finetune.from);
    if (freeze_layers == 0) freeze_layers = shape.blocks > 0 ? std::max<int64_t>(1, shape.blocks / 2) : 0;
    const YAML::Node& f = doc.root()["finetune"];
    const bool listed = f && f["auto"] && f["auto"]["candidates"];
    auto drop = [&](const std::string& c, const std::string& what) {
      if (listed)
        throw UserError(doc.origin_of("finetune.auto.candidates") + ": candidate " + c + " needs a model with " +
                            what + ", and the " + "model in '" + cfg.finetune.from + "' has none",
                        "remove " + c + " from finetune.auto.candidates");
      if (!quiet) log_warn("finetune.strategy auto: the model has no " + what + ", so " + c + " is not tried");
      candidates.erase(std::find(candidates.begin(), candidates.end(), c));
    };
    if (has("freeze") && shape.blocks == 0) drop("freeze", "blocks");
    if (has("lora") && !shape.has_lora_targets) drop("lora", "projections LoRA can adapt");
  }

  StrategySearch search;
  search.metric = cfg.train.metric;
  if (seeded) {
    search.chosen = seeded->value("chosen", std::string());  // RUN_DIR is seeded: only the final run is left
    if (!quiet) log_info("strategy search: resuming the final run of strategy " + search.chosen + " (" + run_dir +
                         "/" + kSearchFile + ")");
  } else {
    // Until the winner seeds it, RUN_DIR/config.yaml is the auto config (a resume needs no --config).
    sfs::create_directories(run_dir + "/trials", ec);
    if (ec) throw UserError("cannot create run directory '" + run_dir + "': " + ec.message(),
                            "check that the parent directory is writable");
    fs::write_file_atomic(run_dir + "/config.yaml", config::emit(doc.root()));
    if (!quiet)
      log_info("strategy search: " + std::to_string(candidates.size()) + " candidates x " +
               std::to_string(trial_steps) + " steps, then the best continues to step " +
               std::to_string(cfg.train.steps) + " (" +
               std::to_string(static_cast<int64_t>(candidates.size()) * trial_steps + cfg.train.steps - trial_steps) +
               " steps in all); trials in " + run_dir + "/trials/");
    for (size_t i = 0; i < candidates.size(); ++i) {
      const std::string& c = candidates[i];
      const std::string dir = trial_dir(run_dir, c);
      std::optional<StrategyTrial> t = finished_trial(dir, c, trial_steps, search.metric);
      if (!t) {
        RunRequest r = strategy_request(req, run_dir, c, freeze_layers, cfg, dir);
        r.report_env = i == 0;  // the environment is the same for every trial: said once
        r.resume = sfs::exists(dir + "/config.yaml", ec);
        r.stop_after_step = trial_steps;
        r.resume_command = search_resume_command(req, cfg, run_dir);
        if (!quiet)
          log_info("strategy search: trial " + std::to_string(i + 1) + "/" + std::to_string(candidates.size()) + ": " + c +
                   (c == "freeze" ? " (" + std::to_string(freeze_layers) + " blocks)" : "") + ", steps 1-" +
                   std::to_string(trial_steps) + " of " + std::to_string(cfg.train.steps));
        try {
          RunOutcome o = run_training(r);
          if (o.fit.interrupted) {
            o.run_dir = run_dir;
            return o;
          }
          t = finished_trial(dir, c, trial_steps, search.metric);
          PTFT_CHECK(t.has_value(), "trial " + c + " finished but " + dir + "/summary.json says otherwise");
        } catch (const TrainingDiverged& e) {
          t = StrategyTrial{c, 0, std::nullopt, 0, 0.0, e.message()};
          if (!quiet) log_warn("strategy search: trial " + c + " diverged; it is out of the comparison");
        } catch (const UserError& e) {
          throw e.with_context("strategy search, trial " + c + " (" + dir + ")");
        }
      }
      search.trials.push_back(*t);
    }
    TrainConfig monitored = cfg.train;
    monitored.metric = search.metric;  // detection watches val_map50_95 unless the config names one
    search.mode = monitored.resolved_mode();
    const std::optional<size_t> best = best_trial(search.trials, search.mode);
    if (!best)
      throw UserError("strategy search: no trial produced a value of " + search.metric +
                          (search.trials.empty() ? std::string() : " (" + search.trials.front().error + ")"),
                      "lower train.lr, or check the validation data (data.val)");
    search.chosen = search.trials[*best].strategy;
    const nlohmann::json record = search.to_json();
    if (!quiet) log_info(search.table());

    // The winner's trial becomes the beginning of RUN_DIR; strategy_search.json marks it done.
    seed_from_trial(trial_dir(run_dir, search.chosen), run_dir);
    {
      MetricsLog m(run_dir + "/metrics.jsonl");
      nlohmann::json ev = {{"event", "strategy_search"}};
      ev.update(record);
      m.write(ev);
    }
    fs::write_file_atomic(run_dir + "/" + kSearchFile, record.dump(2) + "\n");
  }

  // The chosen trial's config (the concrete strategy) is RUN_DIR's, then RUN_DIR resumes with the
  // trial's overrides (after the user's, which may say strategy auto).
  const std::string win_config = trial_dir(run_dir, search.chosen) + "/config.yaml";
  fs::write_file_atomic(run_dir + "/config.yaml", fs::read_file(win_config, "trial config"));
  try {
    freeze_layers = YAML::LoadFile(win_config)["finetune"]["freeze_layers"].as<int64_t>();
  } catch (const YAML::Exception& e) {
    throw UserError(win_config + ": no finetune.freeze_layers (" + e.what() + ")",
                    "the trial's config.yaml is damaged; restore it or start the search again with another --out");
  }
  RunRequest r = strategy_request(req, run_dir, search.chosen, freeze_layers, cfg, run_dir);
  r.report_env = seeded.has_value();  // a resumed search's first run says it; else a trial did
  r.resume = true;
  if (!quiet)
    log_info("strategy search: " + search.chosen + " continues from step " + std::to_string(trial_steps) + " to " +
             std::to_string(cfg.train.steps) + " in " + run_dir);
  return run_training(r);
}

}  // namespace ptft
