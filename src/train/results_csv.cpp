#include "ptft/train/results_csv.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/log.h"

namespace ptft {
namespace {

std::string num(double v, const char* f = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

// Eval columns in Ultralytics' order: val/loss, the four detection metrics, the other val/
// columns, then extra evaluation sets (general/...); alphabetical within a rank.
int rank(const std::string& col) {
  static const char* kOrder[] = {"val/loss", "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)",
                                 "metrics/mAP50-95(B)"};
  for (int i = 0; i < 5; ++i)
    if (col == kOrder[i]) return i;
  return col.rfind("val/", 0) == 0 ? 5 : 6;
}

}  // namespace

ResultsCsv::ResultsCsv(std::string path, int64_t examples_per_step, int64_t train_size)
    : path_(std::move(path)), examples_per_step_(examples_per_step), train_size_(train_size) {}

std::string ResultsCsv::column_for(const std::string& key) {
  if (key == "event" || key == "step") return "";
  static const std::map<std::string, std::string> kUltralytics = {
      {"val_map50", "metrics/mAP50(B)"},         {"val_map50_95", "metrics/mAP50-95(B)"},
      {"val_precision", "metrics/precision(B)"}, {"val_recall", "metrics/recall(B)"}};
  if (auto it = kUltralytics.find(key); it != kUltralytics.end()) return it->second;
  const auto us = key.find('_');
  if (us == std::string::npos || us == 0 || us + 1 == key.size()) return "";
  return key.substr(0, us) + "/" + key.substr(us + 1);  // val_box_loss -> val/box_loss
}

void ResultsCsv::resume(int64_t step) {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return;
  std::istringstream in(fs::read_file(path_, "results file"));
  std::string line;
  std::vector<std::string> header;
  std::vector<Row> kept;
  size_t step_col = 0;
  bool ok = static_cast<bool>(std::getline(in, line));
  if (ok) {
    header = split(line, ',');
    auto it = std::find(header.begin(), header.end(), "step");
    ok = it != header.end() && std::find(header.begin(), header.end(), "train/loss") != header.end();
    step_col = static_cast<size_t>(it - header.begin());
  }
  while (ok && std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = split(line, ',');
    if (cells.size() != header.size()) {
      ok = false;
      break;
    }
    try {
      if (std::stoll(cells[step_col]) > step) break;  // rows are in step order
    } catch (const std::exception&) {
      ok = false;
      break;
    }
    Row r;
    for (size_t i = 0; i < header.size(); ++i) r[header[i]] = cells[i];
    kept.push_back(std::move(r));
  }
  if (!ok) {
    log_warn("'" + path_ + "' is not a results file ptft wrote: it is replaced by the rows of this run from step " +
             std::to_string(step) + " on");
    return;
  }
  columns_ = header;
  rows_ = std::move(kept);
  train_columns_fixed_ = false;
  for (const auto& r : rows_)
    if (!r.at("train/loss").empty()) train_columns_fixed_ = true;
  if (rows_.empty()) columns_.clear();
}

void ResultsCsv::add_train(double loss, const std::map<std::string, double>& components) {
  train_sum_["train/loss"] += loss;
  ++train_count_["train/loss"];
  for (const auto& [name, v] : components) {
    train_sum_["train/" + name] += v;
    ++train_count_["train/" + name];
  }
}

void ResultsCsv::add_eval(const nlohmann::json& ev, double time_s, double lr) {
  const int64_t step = ev.value("step", int64_t{0});
  Row row;
  row["epoch"] = train_size_ > 0 ? num(static_cast<double>(step * examples_per_step_) / train_size_, "%.3f") : "";
  row["step"] = std::to_string(step);
  row["time"] = num(time_s, "%.2f");
  for (const auto& [col, sum] : train_sum_) row[col] = num(sum / static_cast<double>(train_count_.at(col)));
  std::vector<std::string> eval_cols;
  for (auto& [key, v] : ev.items()) {
    const std::string col = column_for(key);
    if (col.empty() || !v.is_number()) continue;  // confusion matrices, per-class lists, ...
    row[col] = v.is_number_integer() ? std::to_string(v.get<int64_t>()) : num(v.get<double>());
    eval_cols.push_back(col);
  }
  row["lr/pg0"] = num(lr);
  train_sum_.clear();
  train_count_.clear();

  std::vector<std::string> train_cols;  // train/<component>, sorted (std::map order)
  for (const auto& [col, cell] : row)
    if (col.rfind("train/", 0) == 0 && col != "train/loss") train_cols.push_back(col);
  const bool has_train = row.count("train/loss") > 0;
  if (columns_.empty()) {
    std::sort(eval_cols.begin(), eval_cols.end(),
              [](const std::string& a, const std::string& b) { return std::make_pair(rank(a), a) < std::make_pair(rank(b), b); });
    columns_ = {"epoch", "step", "time", "train/loss"};
    columns_.insert(columns_.end(), train_cols.begin(), train_cols.end());
    columns_.insert(columns_.end(), eval_cols.begin(), eval_cols.end());
    columns_.push_back("lr/pg0");
    train_columns_fixed_ = has_train;
  } else if (!train_columns_fixed_ && has_train) {
    // The first row with train data (after the evaluation before step 1) names the components.
    columns_.insert(columns_.begin() + 4, train_cols.begin(), train_cols.end());
    train_columns_fixed_ = true;
  }
  rows_.push_back(std::move(row));
  write();
}

std::string ResultsCsv::text() const {
  std::string out;
  for (size_t i = 0; i < columns_.size(); ++i) out += (i ? "," : "") + columns_[i];
  out += "\n";
  for (const auto& r : rows_) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i) out += ",";
      auto it = r.find(columns_[i]);
      if (it != r.end()) out += it->second;
    }
    out += "\n";
  }
  return out;
}

void ResultsCsv::write() const { fs::write_file_atomic(path_, text()); }

}  // namespace ptft
