// src/report/html_report.cpp — see include/ptft/report/html_report.h.
#include "ptft/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/log.h"
#include "ptft/report/html_text.h"
#include "ptft/report/run_samples.h"
#include "ptft/report/svg_chart.h"

namespace ptft::report {
namespace {

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"};
constexpr const char* kSecondColor = "#ff7f0e";  // a single run's validation curves

std::string run_color(size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }

std::string mark_color(const std::string& kind) {
  if (kind == "early_stop") return "#d62728";
  if (kind == "resume") return "#2ca02c";
  if (kind == "unfreeze") return "#9467bd";
  if (kind == "overfit") return "#e377c2";
  if (kind == "error") return "#000";
  return "#7f7f7f";  // interrupted
}

std::string mark_title(const std::string& kind) {
  if (kind == "early_stop") return "early stop";
  return kind;
}

const char* const kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#666;font-size:13px;margin:0 0 12px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}tr.chosen td{background:#e8f4e8;font-weight:bold}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px;vertical-align:baseline}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #eee}
.advice{background:#fff6f0;border-left:3px solid #e377c2;padding:6px 12px;margin:6px 0;font-size:13px}
pre.sample{background:#f7f7f7;padding:8px;white-space:pre-wrap;font-size:13px;max-width:900px}
.note{color:#666;font-size:13px}dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:13px;margin:4px 0}
dl.facts dt{color:#666}dl.facts dd{margin:0}
)";

// <table> with escaped headers; cells are HTML already. `row_class[i]` (optional) classes row i.
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row_class;
  std::vector<bool> numeric;  // per column: right-aligned
  std::string html() const {
    std::string o = "<table><tr>";
    for (const auto& h : headers) o += "<th>" + escape_html(h) + "</th>";
    o += "</tr>";
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::string cls = r < row_class.size() ? row_class[r] : "";
      o += cls.empty() ? "<tr>" : "<tr class=\"" + cls + "\">";
      for (size_t c = 0; c < rows[r].size(); ++c)
        o += (c < numeric.size() && numeric[c] ? "<td class=\"num\">" : "<td>") + rows[r][c] + "</td>";
      o += "</tr>";
    }
    return o + "</table>";
  }
};

std::string number_text(const nlohmann::json& v) { return v.is_number() ? format_number(v.get<double>()) : ""; }

std::string json_number(const nlohmann::json& j, const std::string& key) {
  return j.is_object() && j.contains(key) ? number_text(j[key]) : "";
}

// The metric's final value: summary.json last_eval, else the last eval event.
std::string final_metric(const RunHistory& h) {
  if (h.metric.empty()) return "";
  if (h.summary.is_object() && h.summary.contains("last_eval")) {
    const std::string v = json_number(h.summary["last_eval"], h.metric);
    if (!v.empty()) return v;
  }
  return json_number(h.last_eval, h.metric);
}

// "123456 tokens" from summary.json's <unit>_seen.
std::string units_seen(const RunHistory& h) {
  if (!h.summary.is_object()) return "";
  for (auto& [k, v] : h.summary.items())
    if (k.size() > 5 && k.compare(k.size() - 5, 5, "_seen") == 0 && v.is_number())
      return format_number(v.get<double>()) + " " + escape_html(k.substr(0, k.size() - 5));
  return "";
}

// summary.json's key, else the start event's.
std::string run_fact(const RunHistory& h, const std::string& key) {
  for (const nlohmann::json* j : {&h.summary, &h.start})
    if (j->is_object() && j->contains(key)) {
      const auto& v = (*j)[key];
      if (v.is_string()) return escape_html(v.get<std::string>());
      if (v.is_number()) return format_number(v.get<double>());
    }
  return "";
}

std::string model_text(const RunHistory& h) {
  std::string s = h.family();
  if (h.config.is_object() && h.config.contains("task") && h.config["task"].is_string())
    s += (s.empty() ? "" : " / ") + h.config["task"].get<std::string>();
  return escape_html(s);
}

std::string swatch(size_t i) { return "<span class=\"swatch\" style=\"background:" + run_color(i) + "\"></span>"; }

std::string comparison_table(const std::vector<RunHistory>& runs) {
  Table t;
  t.headers = {"run", "command", "model / task", "status", "steps", "metric", "best (step)", "final",
               "wall time", "parameters", "trainable", "units seen"};
  t.numeric = {false, false, false, false, true, false, true, true, true, true, true, true};
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunHistory& h = runs[i];
    const auto best = h.best_point();
    std::string wall;
    // elapsed_s: the whole run's training time, resumed processes included (older runs: wall_seconds).
    if (h.summary.is_object())
      for (const char* key : {"elapsed_s", "wall_seconds"})
        if (h.summary.contains(key) && h.summary[key].is_number()) {
          wall = format_duration(h.summary[key].get<double>());
          break;
        }
    const std::string steps = h.summary.is_object() ? run_fact(h, "steps") : format_number(static_cast<double>(h.last_step));
    t.rows.push_back({swatch(i) + "<a href=\"#run-" + std::to_string(i) + "\">" + escape_html(h.name) + "</a>",
                      run_fact(h, "command"), model_text(h), escape_html(h.status()), steps, escape_html(h.metric),
                      best ? format_number(best->value) + " (" + std::to_string(best->step) + ")" : "",
                      final_metric(h), wall, run_fact(h, "parameters"), run_fact(h, "trainable_parameters"),
                      units_seen(h)});
  }
  return t.html();
}

bool is_loss_key(const std::string& k) { return k == "val_loss" || k == "general_loss"; }

// "val_accuracy" -> "val accuracy"
std::string pretty_key(std::string k) {
  std::replace(k.begin(), k.end(), '_', ' ');
  return k;
}

// Best-point marker of run i, when its metric is `key`.
void add_best_marker(LineChart& c, const RunHistory& h, const std::string& key, const std::string& color, bool many) {
  const auto best = h.best_point();
  if (!best || h.metric != key) return;
  c.markers.push_back({static_cast<double>(best->step), best->value,
                       (many ? h.name + ": " : std::string()) + "best " + format_number(best->value) + " @ " +
                           std::to_string(best->step),
                       color});
}

std::string charts(const std::vector<RunHistory>& runs) {
  const bool many = runs.size() > 1;
  std::string o = "<div class=\"charts\">";
  auto prefix = [&](const RunHistory& h) { return many ? h.name + " " : std::string(); };

  LineChart loss;
  loss.title = "loss";
  loss.x_label = "step";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunHistory& h = runs[i];
    const std::string color = run_color(i), val_color = many ? color : kSecondColor;
    if (h.train.count("loss")) loss.series.push_back({prefix(h) + "train", color, h.train.at("loss").x, h.train.at("loss").y});
    for (const char* key : {"val_loss", "general_loss"}) {
      if (!h.eval.count(key)) continue;
      ChartSeries s{prefix(h) + (std::string(key) == "val_loss" ? "validation" : "general"), val_color,
                    h.eval.at(key).x, h.eval.at(key).y};
      s.dashed = true;
      s.points = true;
      if (std::string(key) == "general_loss") s.color = many ? color : "#2ca02c";
      loss.series.push_back(s);
      add_best_marker(loss, h, key, val_color, many);
    }
    for (const auto& m : h.marks)
      loss.markers.push_back({static_cast<double>(m.step), std::nullopt,
                              (many ? h.name + ": " : std::string()) + mark_title(m.kind), mark_color(m.kind)});
  }
  o += render_svg(loss);

  LineChart lr;
  lr.title = "learning rate";
  lr.x_label = "step";
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i].train.count("lr"))
      lr.series.push_back({many ? runs[i].name : "lr", run_color(i), runs[i].train.at("lr").x, runs[i].train.at("lr").y});
  o += render_svg(lr);

  LineChart speed;
  speed.title = "throughput";
  speed.x_label = "step";
  std::set<std::string> units;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunHistory& h = runs[i];
    if (h.throughput_key.empty()) continue;
    const std::string unit = h.throughput_key.substr(0, h.throughput_key.size() - 6);
    units.insert(unit);
    speed.series.push_back({many ? h.name : unit + "/s", run_color(i), h.train.at(h.throughput_key).x,
                            h.train.at(h.throughput_key).y});
  }
  speed.y_label = units.size() == 1 ? *units.begin() + "/s" : "units/s";
  o += render_svg(speed);

  std::set<std::string> keys;  // every evaluation metric of any run, val_* before general_*
  for (const auto& h : runs)
    for (const auto& [k, s] : h.eval)
      if (!is_loss_key(k)) keys.insert(k);
  std::vector<std::string> ordered(keys.begin(), keys.end());
  std::stable_partition(ordered.begin(), ordered.end(), [](const std::string& k) { return k.rfind("val_", 0) == 0; });
  for (const auto& key : ordered) {
    LineChart c;
    c.title = pretty_key(key);
    c.x_label = "step";
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < runs.size(); ++i) {
      const RunHistory& h = runs[i];
      if (!h.eval.count(key)) continue;
      ChartSeries s{many ? h.name : pretty_key(key), run_color(i), h.eval.at(key).x, h.eval.at(key).y};
      s.points = true;
      for (double v : s.y)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      c.series.push_back(s);
      add_best_marker(c, h, key, run_color(i), many);
    }
    // Perplexities fall over orders of magnitude early on.
    c.log_y = key.find("perplexity") != std::string::npos && lo > 0 && hi / lo > 10;
    o += render_svg(c);
  }
  return o + "</div>";
}

std::string events_section(const RunHistory& h) {
  if (h.marks.empty()) return "";
  Table t;
  t.headers = {"step", "event", "details"};
  t.numeric = {true, false, false};
  std::string advice;
  for (const auto& m : h.marks) {
    t.rows.push_back({std::to_string(m.step), escape_html(mark_title(m.kind)), escape_html(m.text)});
    if (!m.advice.empty()) {
      advice += "<div class=\"advice\"><b>" + escape_html(m.text) + " at step " + std::to_string(m.step) + "</b><ul>";
      for (const auto& a : m.advice) advice += "<li>" + escape_html(a) + "</li>";
      advice += "</ul></div>";
    }
  }
  return "<h3>Events</h3>" + t.html() + advice;
}

std::string strategy_section(const RunHistory& h) {
  const nlohmann::json& s = h.strategy_search;
  if (!s.is_object() || !s.contains("candidates") || !s["candidates"].is_array()) return "";
  const std::string chosen = s.value("chosen", std::string());
  const std::string metric = s.value("metric", std::string("value"));
  Table t;
  t.headers = {"strategy", "trial steps", metric, "trainable parameters", "wall time", ""};
  t.numeric = {false, true, true, true, true, false};
  for (const auto& c : s["candidates"]) {
    if (!c.is_object()) continue;
    const std::string name = c.value("strategy", std::string("?"));
    std::string wall;
    if (c.contains("wall_seconds") && c["wall_seconds"].is_number())
      wall = format_duration(c["wall_seconds"].get<double>());
    t.rows.push_back({escape_html(name), json_number(c, "trial_steps"), json_number(c, "value"),
                      json_number(c, "trainable_parameters"), wall, name == chosen ? "&#10003; chosen" : ""});
    t.row_class.push_back(name == chosen ? "chosen" : "");
  }
  return "<h3>Strategy search</h3><p class=\"note\">each candidate trained briefly; " + escape_html(metric) + " (" +
         escape_html(s.value("mode", std::string("min"))) + ") picked <b>" + escape_html(chosen) + "</b></p>" + t.html();
}

std::string class_name(const RunHistory& h, size_t i, size_t count) {
  return h.class_names.size() == count && i < count ? h.class_names[i] : std::to_string(i);
}

// Classifiers: the last evaluation's confusion matrix and per-class precision / recall.
std::string confusion_section(const RunHistory& h) {
  const nlohmann::json& ev = h.last_eval;
  if (!ev.is_object() || !ev.contains("val_confusion") || !ev["val_confusion"].is_array()) return "";
  const auto& rows = ev["val_confusion"];
  const size_t n = rows.size();
  HeatMap m;
  m.title = "step " + std::to_string(ev.value("step", int64_t{0})) + ", rows: true class";
  for (size_t i = 0; i < n; ++i) {
    m.row_labels.push_back(class_name(h, i, n));
    std::vector<double> r;
    if (rows[i].is_array())
      for (const auto& v : rows[i]) r.push_back(v.is_number() ? v.get<double>() : NAN);
    m.values.push_back(r);
  }
  m.col_labels = m.row_labels;
  std::string o = "<h3>Confusion matrix</h3>" + render_svg(m);
  // val_per_class of a classifier: {"precision": [..], "recall": [..], "support": [..]} (train/confusion.h).
  const nlohmann::json pc = ev.contains("val_per_class") && ev["val_per_class"].is_object() ? ev["val_per_class"]
                                                                                            : nlohmann::json();
  auto column = [&](const char* key) {
    return pc.is_object() && pc.contains(key) && pc[key].is_array() && pc[key].size() == n ? pc[key] : nlohmann::json();
  };
  const nlohmann::json precision = column("precision"), recall = column("recall"), support = column("support");
  if (precision.is_array() && recall.is_array()) {
    Table t;
    t.headers = {"class", "precision", "recall", "examples"};
    t.numeric = {false, true, true, true};
    for (size_t i = 0; i < n; ++i)
      t.rows.push_back({escape_html(class_name(h, i, n)), number_text(precision[i]), number_text(recall[i]),
                        support.is_array() ? number_text(support[i]) : ""});
    o += t.html();
  }
  return o;
}

// Detectors: AP, precision and recall per class of the last evaluation (train/detection_map.h).
std::string detection_section(const RunHistory& h) {
  const nlohmann::json& ev = h.last_eval;
  if (!ev.is_object() || !ev.contains("val_per_class") || !ev["val_per_class"].is_array()) return "";
  Table t;
  t.headers = {"class", "boxes", "AP50", "AP50-95", "precision", "recall"};
  t.numeric = {false, true, true, true, true, true};
  const auto& per_class = ev["val_per_class"];
  for (const auto& c : per_class) {
    if (!c.is_object() || !c.contains("ap50")) continue;
    const auto id = c.value("class", int64_t{0});
    const std::string name = id >= 0 && static_cast<size_t>(id) < h.class_names.size()
                                 ? h.class_names[static_cast<size_t>(id)] : std::to_string(id);
    t.rows.push_back({escape_html(name), json_number(c, "ground_truth"), json_number(c, "ap50"), json_number(c, "ap50_95"),
                      json_number(c, "precision"), json_number(c, "recall")});
  }
  if (t.rows.empty()) return "";
  return "<h3>Detection per class at step " + std::to_string(ev.value("step", int64_t{0})) +
         "</h3><p class=\"note\">precision / recall at confidence 0.25</p>" + t.html();
}

std::string facts_section(const RunHistory& h) {
  std::vector<std::pair<std::string, std::string>> f = {{"directory", escape_html(h.dir)},
                                                         {"status", escape_html(h.status())},
                                                         {"command", run_fact(h, "command")},
                                                         {"model / task", model_text(h)}};
  if (h.start.is_object()) {
    f.push_back({"device", run_fact(h, "device") + (h.start.contains("precision") ? ", " + run_fact(h, "precision") : "")});
    if (h.start.contains("world_size")) f.push_back({"processes", run_fact(h, "world_size")});
    if (h.start.contains("transfer") && h.start["transfer"].is_object() && h.start["transfer"].contains("strategy"))
    {
      const nlohmann::json& st = h.start["transfer"]["strategy"];
      f.push_back({"fine-tune strategy", escape_html(st.is_string() ? st.get<std::string>() : st.dump())});
    }
  }
  if (const auto best = h.best_point())
    f.push_back({"best " + escape_html(h.metric), format_number(best->value) + " at step " + std::to_string(best->step)});
  if (h.summary.is_object() && h.summary.contains("forgetting") && h.summary["forgetting"].is_object())
    for (auto& [k, v] : h.summary["forgetting"].items())
      f.push_back({"general " + escape_html(k), json_number(v, "before") + " &rarr; " + json_number(v, "after")});
  std::string o = "<dl class=\"facts\">";
  for (const auto& [k, v] : f)
    if (!v.empty()) o += "<dt>" + escape_html(k) + "</dt><dd>" + v + "</dd>";
  o += "</dl>";
  if (!h.summary.is_object())
    o += "<p class=\"note\">no summary.json yet: the run is still going, or it was killed; showing what "
         "metrics.jsonl holds.</p>";
  if (h.torn_lines > 0)
    o += "<p class=\"note\">the last line of metrics.jsonl was cut off (the run was killed while writing it) and "
         "is left out.</p>";
  return o;
}

std::string sample_section(const RunSample& s) {
  if (s.text.empty() && s.note.empty()) return "";
  std::string o = "<h3>Sample</h3>";
  if (!s.note.empty()) o += "<p class=\"note\">" + escape_html(s.note) + "</p>";
  if (s.text.empty()) return o;
  o += "<p class=\"note\">greedy continuation of " +
       (s.prompt.empty() ? std::string("an empty prompt") : "&ldquo;" + escape_html(s.prompt) + "&rdquo;") +
       (s.source.empty() ? "" : " by " + escape_html(s.source)) +
       (s.text.find_first_not_of(" \t\r\n") == std::string::npos ? " (only whitespace: an early model)" : "") +
       "</p><pre class=\"sample\">" + escape_html(s.text) + "</pre>";
  return o;
}

}  // namespace

std::string render_report(const std::vector<RunHistory>& runs, const std::vector<RunSample>& samples,
                          const ReportOptions& opt) {
  std::string title = opt.title;
  if (title.empty()) {
    title = "ptft report:";
    for (size_t i = 0; i < runs.size(); ++i) title += (i ? ", " : " ") + runs[i].name;
  }
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape_html(title) +
                  "</title><style>" + kStyle + "</style></head><body>\n";
  o += "<h1>" + escape_html(title) + "</h1><p class=\"meta\">written " + utc_timestamp() + " by ptft " PTFT_VERSION
       "</p>\n";
  o += "<h2>Runs</h2>" + comparison_table(runs) + "\n";
  o += "<h2>Curves</h2>" + charts(runs) + "\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunHistory& h = runs[i];
    o += "<h2 id=\"run-" + std::to_string(i) + "\">" + swatch(i) + escape_html(h.name) + "</h2>";
    o += facts_section(h) + events_section(h) + strategy_section(h) + confusion_section(h) + detection_section(h);
    if (i < samples.size()) o += sample_section(samples[i]);
    o += "\n";
  }
  return o + "</body></html>\n";
}

void write_report(const std::vector<std::string>& run_dirs, const std::string& out, const ReportOptions& opt) {
  if (run_dirs.empty()) throw UserError("no run directory to report on", "pass one or more run directories");
  const std::vector<std::string> names = unique_run_names(run_dirs);
  std::vector<RunHistory> runs;
  std::vector<RunSample> samples;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    runs.push_back(read_run_history(run_dirs[i]));
    runs.back().name = names[i];
    std::optional<RunSample> s;
    if (opt.samples) s = run_sample(runs.back(), opt.sample_tokens);
    samples.push_back(s ? *s : RunSample{});
  }
  fs::write_file_atomic(out, render_report(runs, samples, opt));
}

void write_run_report(const std::string& run_dir) noexcept {
  try {
    ReportOptions opt;
    opt.samples = false;
    write_report({run_dir}, run_dir + "/report.html", opt);
  } catch (const Error& e) {
    log_warn("could not write the run report " + run_dir + "/report.html: " + e.full());
  } catch (const std::exception& e) {
    log_warn("could not write the run report " + run_dir + "/report.html: " + e.what());
  }
}

}  // namespace ptft::report
