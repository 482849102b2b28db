// ptft/report/run_history.h — what a run directory says about its training, as curves and events.
//
// Reads RUN/metrics.jsonl (one JSON event per line, see docs/formats.md), RUN/summary.json when
// the run finished, and the class names of RUN/checkpoints/{best,last}/config.json (id2label).
// A partial run (interrupted, killed, no evaluation yet) gives what it has: missing parts stay
// empty / null.
//
//   RunHistory h = read_run_history("runs/spirals");
//   h.train.at("loss").x / .y        // train events: step -> interval mean loss
//   h.eval.at("val_accuracy")        // eval events: every numeric non-integer val_* / general_* key
//   h.best                           // the `best` events (step, value of h.metric)
//   h.marks                          // early_stop, interrupted, resume, unfreeze, overfit, error
//
// Resumed runs log some steps twice (the steps after the last checkpoint, before the kill):
// a point at a step not after the series' last one drops the points from that step on, so the
// curve shows what the resumed run did.
//
// Errors (UserError): no metrics.jsonl ("'X' is not a run directory"), a line that is not a
// JSON object ("RUN/metrics.jsonl:LINE: ..."). A torn last line without its newline (a kill
// while it was written) is skipped and counted in `torn_lines`.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ptft::report {

struct Series {
  std::vector<double> x, y;
  // Appends (x, y); drops the points at x' >= x first (see above).
  void add(double x, double y);
  bool empty() const { return x.empty(); }
};

struct BestPoint {
  int64_t step = 0;
  double value = 0;
};

// An event worth a marker on the curves.
struct RunMark {
  std::string kind;                  // "early_stop" | "interrupted" | "resume" | "unfreeze" | "overfit" | "error"
  int64_t step = 0;
  std::string text;                  // a line for people (the unfreeze message, the signal, ...)
  std::vector<std::string> advice;   // overfit: its advice lines
};

struct RunHistory {
  std::string dir;                   // as given
  std::string name;                  // the directory's base name
  nlohmann::json start;              // the last `start` event (null when none)
  nlohmann::json summary;            // summary.json, else the `end` event's summary (null when none)
  nlohmann::json config;             // start.config (the resolved config), null when none
  std::string metric;                // the monitored metric (summary, else config train.metric)
  std::string throughput_key;        // "tokens_per_s" | "examples_per_s" | "" (no train event)
  std::map<std::string, Series> train;  // numeric keys of train events but step/elapsed_s
  std::map<std::string, Series> eval;   // numeric non-integer val_* / general_* keys of eval events
  std::vector<BestPoint> best;
  std::vector<RunMark> marks;
  nlohmann::json last_eval;          // the last eval event (val_confusion, val_per_class, ...), or null
  nlohmann::json strategy_search;    // the `strategy_search` event, or null
  std::vector<std::string> class_names;  // id2label of the checkpoint; empty when none
  int64_t last_step = 0;             // the highest step of any event
  int torn_lines = 0;

  // "finished", "early-stopped", "interrupted", "failed" (an `error` event) or "incomplete"
  // (no summary: running, or killed).
  std::string status() const;
  // The best step and value: summary.json best_step/best_metric, else the last `best` event.
  std::optional<BestPoint> best_point() const;
  // The family of the model (config model.family), "" when unknown.
  std::string family() const;
};

RunHistory read_run_history(const std::string& dir);

// Base names of `dirs`, made unique by appending " (2)", " (3)", ... to repeats.
std::vector<std::string> unique_run_names(const std::vector<std::string>& dirs);

}  // namespace ptft::report
