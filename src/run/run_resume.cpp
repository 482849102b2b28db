// The --resume phase of run_training (run_state.h): weights, optimizer, trainer state and RNG
// from RUN_DIR/checkpoints/last. A checkpoint whose model the config's no longer matches is
// named as such (with the differing keys), not taken for a damaged one. A run that already
// ended is left as it is.
#include <algorithm>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/json_depth.h"
#include "ptft/core/fs.h"
#include "ptft/io/tensor_io.h"
#include "ptft/models/model_files.h"
#include "run_state.h"

namespace ptft {

namespace {

// "model.KEY (config A, checkpoint B)" for every key of the model sections `config` and
// `checkpoint` (ModelImpl::config_yaml) whose values differ; nested maps by their full key.
void model_differences(const YAML::Node& config, const YAML::Node& checkpoint, const std::string& prefix,
                       std::vector<std::string>& out) {
  auto text = [](const YAML::Node& n) { return n ? config::emit_inline(n) : std::string("(none)"); };
  std::vector<std::string> keys;
  for (const YAML::Node& side : {config, checkpoint})
    for (const auto& kv : side) {
      const std::string k = kv.first.as<std::string>();
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  for (const std::string& k : keys) {
    const YAML::Node a = config[k], b = checkpoint[k];
    if (a && b && a.IsMap() && b.IsMap()) model_differences(a, b, prefix + k + ".", out);
    else if (text(a) != text(b)) out.push_back(prefix + k + " (config " + text(a) + ", checkpoint " + text(b) + ")");
  }
}

// What differs between the run's model and the one checkpoint `dir` holds; empty when they agree
// or when its config.json does not build a model (then it is damaged).
std::string model_differences(const ModelImpl& model, const nlohmann::json& ckpt_config, const std::string& dir) {
  ModelPtr saved;
  try {
    saved = model_from_config_json(ckpt_config, dir + "/config.json");
  } catch (const UserError&) {
    return "";
  }
  std::vector<std::string> diffs;
  model_differences(model.config_yaml(), saved->config_yaml(), "model.", diffs);
  std::string s;
  for (const auto& d : diffs) s += (s.empty() ? "" : ", ") + d;
  return s;
}

// The result summary.json recorded when the run in s.run_dir ended at checkpoint step `at` (not
// interrupted; early-stopped, or at the step the config asks for); nothing when it goes on.
std::optional<FitResult> finished_run(const RunState& s, int64_t at) {
  const std::string path = s.run_dir + "/summary.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  const nlohmann::json sum = nlohmann::json::parse(read_json_text(path, "run summary"), nullptr, false);
  if (!sum.is_object() || sum.value("interrupted", true) || sum.value("steps", int64_t{-1}) != at) return std::nullopt;
  const int64_t end = s.req.stop_after_step > 0 ? s.req.stop_after_step : s.cfg.train.steps;
  FitResult r;
  r.step = at;
  r.early_stopped = sum.value("early_stopped", false);
  if (!r.early_stopped && at < end) return std::nullopt;
  r.best_step = sum.value("best_step", int64_t{-1});
  if (sum.contains("best_metric") && sum["best_metric"].is_number()) r.best_metric = sum["best_metric"].get<double>();
  r.first_eval = sum.value("first_eval", nlohmann::json());
  r.last_eval = sum.value("last_eval", nlohmann::json());
  return r;
}

}  // namespace

void read_resume(RunState& s) {
  if (!s.req.resume) return;
  CheckpointSet probe(s.ckpt_root, static_cast<int>(s.cfg.train.keep_checkpoints));
  const std::optional<std::string> last = probe.last_dir();
  if (!last) {
    if (!s.quiet) log_info("no checkpoint in " + s.ckpt_root + " yet: starting from step 0");
    return;
  }
  try {
    s.resume = read_checkpoint(*last, true);
    load_into(*s.model, s.resume->model, *last + "/model.safetensors", true);
  } catch (const UserError& e) {
    const std::string diffs = s.resume ? model_differences(*s.model, s.resume->config, *last) : "";
    if (!diffs.empty())
      throw UserError("--resume: the config's model differs from the checkpoint's ('" + *last + "') in " + diffs,
                      "resume with the config the run started with (--config " + s.run_dir +
                          "/config.yaml, or no --config), or start a new run with another --out; nothing was changed");
    throw UserError("cannot resume from '" + *last + "': " + e.message(),
                    "that checkpoint is damaged; nothing was changed. Resume from an earlier one by "
                    "pointing the link at it: ln -sfn step-NNNNNNNN " + s.ckpt_root + "/last");
  }
  const nlohmann::json& state = s.resume->trainer_state;
  const int64_t at = state.is_object() ? state.value("step", int64_t{-1}) : -1;
  s.finished = finished_run(s, at);
  if (!s.finished) return;
  // As the trainer does on resume: `best` follows the state if a kill left it one improvement behind.
  const int64_t best = state.value("best_step", int64_t{-1});
  std::error_code ec;
  if (s.launch.is_main() && best >= 0 && std::filesystem::is_directory(probe.step_dir(best), ec)) probe.mark_best(best);
  if (s.quiet) return;
  log_info("run '" + s.run_dir + "' already finished at step " + std::to_string(at) + " (" + s.run_dir +
           "/summary.json); nothing was changed. " +
           (s.finished->early_stopped
                ? "It stopped early (" + s.cfg.train.metric + " had stopped improving); to train on, start a new run from it."
                : "To train further, raise train.steps: --set train.steps=" + std::to_string(2 * std::max<int64_t>(at, 1))));
}

}  // namespace ptft
