// ptft/report/html_report.h — one self-contained HTML page about one or more training runs.
//
// The page has no scripts and loads nothing: styles are inline, charts are inline SVG
// (svg_chart.h). It shows
//   - a comparison table: command, family, status, steps, monitored metric (best @ step and
//     final), wall time, parameters (trainable), units seen;
//   - the curves, one colour per run: train and validation loss (the best step marked with its
//     value, early_stop / interrupted / resume / unfreeze / overfit as dashed lines), learning
//     rate, throughput (<unit>_per_s), every evaluation metric;
//   - per run: its events (with the overfit advice), the strategy search candidates (the chosen
//     one highlighted), the confusion matrix of the last evaluation as a heat map (class names
//     from the checkpoint), the per-class detection table, and a sample generation.
//
//   ReportOptions o;  o.samples = false;
//   write_report({"runs/a", "runs/b"}, "cmp.html", o);   // atomic; UserError naming a bad run
//   write_run_report("runs/a");                           // RUN/report.html, never throws
#pragma once

#include <string>
#include <vector>

#include "ptft/report/run_history.h"

namespace ptft::report {

struct ReportOptions {
  std::string title;            // the page title; "" = "ptft report: <run names>"
  bool samples = true;          // GPT runs with a tokenizer in the checkpoint: a greedy continuation
  int sample_tokens = 30;       // new tokens of that sample
};

// What a run's model writes (see run_samples.h); empty `text` and a `note` when it could not.
struct RunSample {
  std::string prompt;
  std::string text;
  std::string source;  // the checkpoint that wrote it
  std::string note;    // why there is no text
};

// The page for `runs` (names already unique). samples[i] belongs to runs[i] (may be empty).
std::string render_report(const std::vector<RunHistory>& runs, const std::vector<RunSample>& samples,
                          const ReportOptions& opt);

// Reads every run directory, renders and writes `out` atomically.
void write_report(const std::vector<std::string>& run_dirs, const std::string& out, const ReportOptions& opt);

// The end of a training run: RUN/report.html without samples (they would load the model again;
// `ptft report RUN` adds them). A failure is a warning, never an exception.
void write_run_report(const std::string& run_dir) noexcept;

}  // namespace ptft::report
