// The last phase of run_training (run_state.h): summary.json, the end event, the result on
// stderr, and RUN_DIR/report.html.
#include "ptft/core/fs.h"
#include "ptft/core/memory.h"
#include "ptft/train/confusion.h"
#include "ptft/train/detection_map.h"
#include "ptft/report/html_report.h"
#include "ptft/run/strategy_search.h"
#include "run_state.h"

namespace ptft {

namespace {

nlohmann::json summary_json(const RunState& s, const FitResult& r) {
  nlohmann::json summary = {{"command", s.req.command},
                            {"steps", r.step},
                            {"interrupted", r.interrupted},
                            {"early_stopped", r.early_stopped},
                            {"best_step", r.best_step},
                            {"metric", s.cfg.train.metric},
                            {"best_metric", r.best_step >= 0 ? nlohmann::json(r.best_metric) : nlohmann::json(nullptr)},
                            {"first_eval", r.first_eval},
                            {"last_eval", r.last_eval},
                            {"wall_seconds", r.wall_seconds},
                            {"elapsed_s", r.elapsed_seconds},
                            {"phase_seconds", r.phase_seconds},
                            {"peak_rss_mb", peak_rss_mb()},
                            {"parameters", s.total_params},
                            {"trainable_parameters", s.trainable},
                            {s.task->unit() + "_seen", r.units_seen}};
  // Forgetting: the general-data metrics before and after fine-tuning.
  if (r.first_eval.is_object() && r.last_eval.is_object()) {
    nlohmann::json f = nlohmann::json::object();
    for (auto& [k, v] : r.first_eval.items())
      if (k.rfind("general_", 0) == 0 && v.is_number_float() && r.last_eval.contains(k))
        f[k.substr(8)] = {{"before", v}, {"after", r.last_eval[k]}};
    if (!f.empty()) summary["forgetting"] = f;
  }
  summary["world_size"] = s.launch.world_size;
  if (auto search = read_strategy_search(s.run_dir)) summary["strategy_search"] = *search;  // seeded by one
  summary["overfit_warnings"] = r.overfit_steps;  // steps at which the overfitting alarm fired
  return summary;
}

void log_result(const RunState& s, const FitResult& r, const nlohmann::json& summary) {
  std::string line = "done: " + std::to_string(r.step) + " steps in " + std::to_string(r.wall_seconds) + " s";
  if (r.best_step >= 0)
    line += "; best " + s.cfg.train.metric + " " + std::to_string(r.best_metric) + " at step " +
            std::to_string(r.best_step) + " (" + s.ckpt_root + "/best)";
  if (summary.contains("forgetting") && summary["forgetting"].contains("perplexity"))
    line += "; general perplexity " + std::to_string(summary["forgetting"]["perplexity"]["before"].get<double>()) +
            " -> " + std::to_string(summary["forgetting"]["perplexity"]["after"].get<double>());
  log_info(line);
  if (r.phase_seconds.is_object()) log_info("time by phase: " + PhaseClock::shares_line(r.phase_seconds));
  // Classifiers: per-class precision/recall and the confusion matrix of the last evaluation.
  if (r.last_eval.is_object() && r.last_eval.contains("val_confusion"))
    log_info("validation at step " + std::to_string(r.step) + ":\n" +
             ConfusionMatrix::from_rows(r.last_eval["val_confusion"]).table(s.model->class_names()));
  // Detectors: AP, precision and recall per class.
  if (r.last_eval.is_object() && r.last_eval.contains("val_map50") && r.last_eval.contains("val_per_class"))
    log_info("validation at step " + std::to_string(r.step) + " (precision/recall at confidence 0.25):\n" +
             detection_table(r.last_eval["val_per_class"], s.model->class_names()));
}

}  // namespace

void write_summary(RunState& s, const FitResult& r) {
  const nlohmann::json summary = summary_json(s, r);
  if (s.launch.is_main()) fs::write_file_atomic(s.run_dir + "/summary.json", summary.dump(2) + "\n");
  s.metrics.write({{"event", "end"}, {"summary", summary}});
  if (!s.quiet && !r.interrupted) log_result(s, r, summary);
  if (s.launch.is_main()) report::write_run_report(s.run_dir);  // RUN/report.html; a failure only warns
}

}  // namespace ptft
