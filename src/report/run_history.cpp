// src/report/run_history.cpp — see include/ptft/report/run_history.h.
#include "ptft/report/run_history.h"
#include "ptft/core/json_depth.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/class_names.h"

namespace ptft::report {
namespace sfs = std::filesystem;
namespace {

const char* const kMarkKinds[] = {"early_stop", "interrupted", "resume", "unfreeze", "overfit"};

std::string base_name(const std::string& dir) {
  sfs::path p = sfs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") {
    std::error_code ec;
    name = sfs::weakly_canonical(dir, ec).filename().string();
  }
  return name.empty() ? dir : name;
}

// A line for people about a marked event.
RunMark make_mark(const std::string& kind, const nlohmann::json& ev) {
  RunMark m;
  m.kind = kind;
  m.step = ev.value("step", int64_t{0});
  if (kind == "unfreeze") {
    m.text = ev.value("message", std::string());
  } else if (kind == "interrupted") {
    m.text = "stopped by signal " + std::to_string(ev.value("signal", 0));
  } else if (kind == "resume") {
    m.text = "resumed from " + ev.value("from", std::string("a checkpoint"));
  } else if (kind == "early_stop") {
    m.text = "no improvement since step " + std::to_string(ev.value("best_step", int64_t{-1}));
  } else if (kind == "overfit") {
    m.text = "overfitting on " + ev.value("metric", std::string("val_loss"));
    if (ev.contains("advice") && ev["advice"].is_array())
      for (const auto& a : ev["advice"])
        if (a.is_string()) m.advice.push_back(a.get<std::string>());
  }
  return m;
}

// The checkpoint's id2label names (best, else last); none when unreadable.
std::vector<std::string> checkpoint_class_names(const std::string& dir) {
  for (const char* which : {"best", "last"}) {
    const std::string path = dir + "/checkpoints/" + which + "/config.json";
    std::error_code ec;
    if (!sfs::is_regular_file(path, ec)) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(read_json_text(path, "checkpoint config"));
      if (j.contains("id2label")) return class_names_from_json(j, -1, path);
    } catch (const std::exception&) {
      // A damaged checkpoint config only costs the class names (indices are shown instead).
    }
  }
  return {};
}

}  // namespace

void Series::add(double px, double py) {
  while (!x.empty() && x.back() >= px) {
    x.pop_back();
    y.pop_back();
  }
  x.push_back(px);
  y.push_back(py);
}

std::string RunHistory::status() const {
  for (const auto& m : marks)
    if (m.kind == "error") return "failed";
  if (summary.is_object()) {
    if (summary.value("interrupted", false)) return "interrupted";
    if (summary.value("early_stopped", false)) return "early-stopped";
    return "finished";
  }
  for (const auto& m : marks)
    if (m.kind == "interrupted") return "interrupted";
  return "incomplete";
}

std::optional<BestPoint> RunHistory::best_point() const {
  if (summary.is_object() && summary.contains("best_step") && summary["best_step"].is_number_integer() &&
      summary["best_step"].get<int64_t>() >= 0 && summary.contains("best_metric") &&
      summary["best_metric"].is_number())
    return BestPoint{summary["best_step"].get<int64_t>(), summary["best_metric"].get<double>()};
  if (!best.empty()) return best.back();
  return std::nullopt;
}

std::string RunHistory::family() const {
  if (config.is_object() && config.contains("model") && config["model"].is_object())
    return config["model"].value("family", std::string());
  return {};
}

RunHistory read_run_history(const std::string& dir) {
  RunHistory h;
  h.dir = dir;
  h.name = base_name(dir);
  std::error_code ec;
  if (!sfs::is_directory(dir, ec))
    throw UserError("run directory '" + dir + "' does not exist",
                    "pass the --out directory of a ptft pretrain / finetune run");
  const std::string path = dir + "/metrics.jsonl";
  if (!sfs::is_regular_file(path, ec))
    throw UserError("'" + dir + "' is not a run directory (no metrics.jsonl)",
                    "pass the --out directory of a ptft pretrain / finetune run");
  const std::string text = fs::read_file(path, "metrics log");
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0;
  size_t consumed = 0;
  while (std::getline(in, line)) {
    ++line_no;
    consumed += line.size() + 1;
    const bool last_without_newline = consumed > text.size();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json ev;
    try {
      ev = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      if (last_without_newline) {  // torn by a kill while it was written
        ++h.torn_lines;
        continue;
      }
      throw UserError(path + ":" + std::to_string(line_no) + ": not valid JSON (" + e.what() + ")",
                      "every line of metrics.jsonl is one JSON object; remove or repair that line");
    }
    if (!ev.is_object() || !ev.contains("event") || !ev["event"].is_string())
      throw UserError(path + ":" + std::to_string(line_no) + ": not an event (a JSON object with \"event\")",
                      "every line of metrics.jsonl is one JSON object with an \"event\" key");
    const std::string kind = ev["event"].get<std::string>();
    const bool has_step = ev.contains("step") && ev["step"].is_number();
    const double step = has_step ? ev["step"].get<double>() : 0;
    if (has_step) h.last_step = std::max(h.last_step, static_cast<int64_t>(step));
    if (kind == "start") {
      h.start = ev;
      if (ev.contains("config")) h.config = ev["config"];
    } else if (kind == "train" && has_step) {
      for (auto& [k, v] : ev.items()) {
        if (k == "step" || k == "elapsed_s" || !v.is_number()) continue;
        h.train[k].add(step, v.get<double>());
        if (k.size() > 6 && k.compare(k.size() - 6, 6, "_per_s") == 0) h.throughput_key = k;
      }
    } else if (kind == "eval" && has_step) {
      for (auto& [k, v] : ev.items()) {
        const bool named = k.rfind("val_", 0) == 0 || k.rfind("general_", 0) == 0;
        // Floats are metrics; integers are counts (val_tokens, val_examples).
        if (named && v.is_number_float()) h.eval[k].add(step, v.get<double>());
      }
      h.last_eval = ev;
    } else if (kind == "best" && has_step) {
      for (auto& [k, v] : ev.items())
        if (k != "step" && k != "event" && k != "time" && v.is_number()) {
          while (!h.best.empty() && h.best.back().step >= static_cast<int64_t>(step)) h.best.pop_back();
          h.best.push_back({static_cast<int64_t>(step), v.get<double>()});
          if (h.metric.empty()) h.metric = k;
        }
    } else if (kind == "strategy_search") {
      h.strategy_search = ev;
    } else if (kind == "end") {
      if (ev.contains("summary") && ev["summary"].is_object()) h.summary = ev["summary"];
    } else if (kind == "error") {
      RunMark m;
      m.kind = "error";
      m.step = static_cast<int64_t>(step);
      m.text = ev.value("message", std::string("error"));
      h.marks.push_back(m);
    } else {
      for (const char* mk : kMarkKinds)
        if (kind == mk) h.marks.push_back(make_mark(kind, ev));
    }
  }
  const std::string summary_path = dir + "/summary.json";
  if (sfs::is_regular_file(summary_path, ec)) {
    try {
      h.summary = nlohmann::json::parse(read_json_text(summary_path, "run summary"));
    } catch (const nlohmann::json::parse_error& e) {
      throw UserError(summary_path + ": not valid JSON (" + e.what() + ")",
                      "summary.json is rewritten at the end of a run; remove it to report without it");
    }
  }
  if (h.summary.is_object() && h.summary.contains("metric") && h.summary["metric"].is_string())
    h.metric = h.summary["metric"].get<std::string>();
  else if (h.metric.empty() && h.config.is_object() && h.config.contains("train") && h.config["train"].is_object())
    h.metric = h.config["train"].value("metric", std::string());
  h.class_names = checkpoint_class_names(dir);
  return h;
}

std::vector<std::string> unique_run_names(const std::vector<std::string>& dirs) {
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    const std::string base = base_name(d);
    std::string name = base;
    for (int k = 2; std::find(out.begin(), out.end(), name) != out.end(); ++k)
      name = base + " (" + std::to_string(k) + ")";
    out.push_back(name);
  }
  return out;
}

}  // namespace ptft::report
