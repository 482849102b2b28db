// ptft/train/results_csv.h — RUN/results.csv: one row per evaluation, with Ultralytics' column
// names, so that the plotting scripts and habits made for YOLO runs read ptft runs too.
//
//   epoch,step,time,train/loss,train/box_loss,...,val/loss,metrics/precision(B),...,lr/pg0
//
// epoch = step * examples_per_step / train_size (3 decimals); time = training seconds; train/*
// = mean of the train log events since the previous row (empty when there was none, as at the
// evaluation before the first step); val_* and <extra>_* metrics are mapped by column_for()
// (non-scalar ones, such as confusion matrices, are skipped); lr/pg0 = the scheduled LR. The
// columns are fixed by the first row (train/<component> columns by the first row with train
// data); a later metric outside them is left out, a missing one is an empty cell. The whole
// file is rewritten atomically at every row.
//
//   ResultsCsv csv(run_dir + "/results.csv", batch_size * grad_accum, train.size());
//   csv.resume(start_step);                          // keep the rows up to a resumed step
//   csv.add_train(loss, task.take_loss_components());  // per train log event
//   csv.add_eval(eval_event, elapsed_s, lr);         // per evaluation: a row, file rewritten
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptft {

class ResultsCsv {
 public:
  ResultsCsv(std::string path, int64_t examples_per_step, int64_t train_size);

  // Resume at `step`: keeps the rows of an existing file with step <= `step` (and its columns).
  // A missing file keeps nothing; an unreadable one is replaced (with a warning).
  void resume(int64_t step);
  // One train log event: its mean loss and loss components (averaged into the next row).
  void add_train(double loss, const std::map<std::string, double>& components);
  // One eval event ({"step": s, "val_loss": ..., "general_perplexity": ...}) at `time_s`
  // training seconds with scheduled LR `lr`: appends a row and rewrites the file.
  void add_eval(const nlohmann::json& eval_event, double time_s, double lr);

  std::string text() const;
  const std::vector<std::string>& columns() const { return columns_; }
  size_t rows() const { return rows_.size(); }
  // The column of an eval-event key: val_map50 -> metrics/mAP50(B), val_map50_95 ->
  // metrics/mAP50-95(B), val_precision/val_recall -> metrics/precision(B)/recall(B), other
  // val_X -> val/X, <extra>_X -> <extra>/X (general_perplexity -> general/perplexity); empty
  // for "event" and "step".
  static std::string column_for(const std::string& key);

 private:
  using Row = std::map<std::string, std::string>;  // column -> cell
  void write() const;

  std::string path_;
  int64_t examples_per_step_;
  int64_t train_size_;
  std::vector<std::string> columns_;  // empty until the first row
  bool train_columns_fixed_ = false;  // train/<component> columns chosen (a row had train data)
  std::vector<Row> rows_;
  // Train events since the last row: sums and counts per column.
  std::map<std::string, double> train_sum_;
  std::map<std::string, int64_t> train_count_;
};

}  // namespace ptft
