// Tests for ResultsCsv (ptft/train/results_csv.h) on hand-made events: Ultralytics column names
// and order, train means since the previous row, the evaluation before step 1 (no train data),
// epoch arithmetic, skipped non-scalar metrics, a fixed column set, the file rewritten at every
// row, and resume keeping the rows up to the resume step.
#include "ptft/train/results_csv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "../common/temp_dir.h"
#include "ptft/core/fs.h"

namespace ptft {
namespace {

using test::TempDir;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string c;
  while (std::getline(in, c, ',')) out.push_back(c);
  return out;
}

nlohmann::json detection_eval(int64_t step, double map50) {
  return {{"event", "eval"},          {"step", step},
          {"val_loss", 2.5},          {"val_box_loss", 1.5},
          {"val_cls_loss", 1.0},      {"val_map50", map50},
          {"val_map50_95", 0.25},     {"val_precision", 0.75},
          {"val_recall", 0.5},        {"val_per_class_ap", {0.1, 0.2}},
          {"val_confusion", {{1, 0}, {0, 1}}}};
}

TEST(ResultsCsv, ColumnNamesFollowUltralytics) {
  EXPECT_EQ(ResultsCsv::column_for("val_map50"), "metrics/mAP50(B)");
  EXPECT_EQ(ResultsCsv::column_for("val_map50_95"), "metrics/mAP50-95(B)");
  EXPECT_EQ(ResultsCsv::column_for("val_precision"), "metrics/precision(B)");
  EXPECT_EQ(ResultsCsv::column_for("val_recall"), "metrics/recall(B)");
  EXPECT_EQ(ResultsCsv::column_for("val_box_loss"), "val/box_loss");
  EXPECT_EQ(ResultsCsv::column_for("val_cls_loss"), "val/cls_loss");
  EXPECT_EQ(ResultsCsv::column_for("val_accuracy"), "val/accuracy");
  EXPECT_EQ(ResultsCsv::column_for("general_perplexity"), "general/perplexity");
  EXPECT_EQ(ResultsCsv::column_for("step"), "");
  EXPECT_EQ(ResultsCsv::column_for("event"), "");
}

TEST(ResultsCsv, OneRowPerEvalWithTrainMeansSinceThePreviousRow) {
  TempDir tmp("results");
  const std::string path = tmp.path + "/results.csv";
  // 8 examples per step, 64 training examples: step 10 is epoch 1.25.
  ResultsCsv csv(path, 8, 64);
  csv.add_eval(detection_eval(0, 0.0), 0.5, 0.0);  // fine-tuning's evaluation before step 1
  csv.add_train(4.0, {{"box_loss", 3.0}, {"cls_loss", 1.0}});
  csv.add_train(2.0, {{"box_loss", 1.0}, {"cls_loss", 1.0}});
  csv.add_eval(detection_eval(10, 0.125), 12.346, 1e-3);
  csv.add_train(1.0, {{"box_loss", 0.5}, {"cls_loss", 0.5}});
  nlohmann::json third = detection_eval(20, 0.5);
  third.erase("val_recall");      // a missing metric: an empty cell
  third["val_new_metric"] = 1.0;  // not in the first row: left out
  csv.add_eval(third, 20.0, 5e-4);

  const auto lines = lines_of(fs::read_file(path));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "epoch,step,time,train/loss,train/box_loss,train/cls_loss,val/loss,metrics/precision(B),"
            "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,lr/pg0");
  // No train events before the first evaluation: empty train cells.
  EXPECT_EQ(lines[1], "0.000,0,0.50,,,,2.5,0.75,0.5,0,0.25,1.5,1,0");
  EXPECT_EQ(lines[2], "1.250,10,12.35,3,2,1,2.5,0.75,0.5,0.125,0.25,1.5,1,0.001");
  EXPECT_EQ(lines[3], "2.500,20,20.00,1,0.5,0.5,2.5,0.75,,0.5,0.25,1.5,1,0.0005");
  EXPECT_EQ(csv.rows(), 3u);
}

TEST(ResultsCsv, PretrainingRowsHaveTrainLossAndTaskMetrics) {
  TempDir tmp("results_cls");
  ResultsCsv csv(tmp.path + "/results.csv", 16, 512);
  csv.add_train(1.0, {});
  csv.add_eval({{"event", "eval"}, {"step", 16}, {"val_loss", 0.75}, {"val_accuracy", 0.5}, {"val_examples", 256},
                {"general_perplexity", 12.5}},
               1.0, 3e-4);
  const auto lines = lines_of(csv.text());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "epoch,step,time,train/loss,val/loss,val/accuracy,val/examples,general/perplexity,lr/pg0");
  EXPECT_EQ(lines[1], "0.500,16,1.00,1,0.75,0.5,256,12.5,0.0003");
}

TEST(ResultsCsv, ResumeKeepsTheRowsUpToTheResumeStep) {
  TempDir tmp("results_resume");
  const std::string path = tmp.path + "/results.csv";
  {
    ResultsCsv csv(path, 8, 64);
    for (int64_t s : {10, 20, 30}) {
      csv.add_train(1.0 / s, {{"box_loss", 0.5}});
      csv.add_eval(detection_eval(s, 0.1), s, 1e-3);
    }
  }
  ResultsCsv resumed(path, 8, 64);
  resumed.resume(20);  // the checkpoint of step 20: the row of step 30 is redone
  ASSERT_EQ(resumed.rows(), 2u);
  resumed.add_train(0.25, {{"box_loss", 0.125}});
  resumed.add_eval(detection_eval(30, 0.75), 31.0, 1e-3);
  const auto lines = lines_of(fs::read_file(path));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].substr(0, 44), "epoch,step,time,train/loss,train/box_loss,va");
  EXPECT_EQ(lines[1].substr(0, 20), "1.250,10,10.00,0.1,0");
  EXPECT_EQ(lines[2].substr(0, 21), "2.500,20,20.00,0.05,0");
  EXPECT_EQ(lines[3].substr(0, 25), "3.750,30,31.00,0.25,0.125");
  // The new row's mAP50 (0.75; the kept rows had 0.1).
  const auto header = split_cells(lines[0]);
  const size_t map50 = std::find(header.begin(), header.end(), "metrics/mAP50(B)") - header.begin();
  ASSERT_LT(map50, header.size());
  EXPECT_EQ(split_cells(lines[2])[map50], "0.1");
  EXPECT_EQ(split_cells(lines[3])[map50], "0.75");

  // Resuming before the first row, or without a file, starts empty; a foreign file is replaced.
  ResultsCsv early(path, 8, 64);
  early.resume(5);
  EXPECT_EQ(early.rows(), 0u);
  std::ofstream(tmp.path + "/other.csv") << "a,b\n1,2\n";
  ResultsCsv foreign(tmp.path + "/other.csv", 8, 64);
  foreign.resume(100);
  EXPECT_EQ(foreign.rows(), 0u);
  ResultsCsv none(tmp.path + "/absent.csv", 8, 64);
  none.resume(100);
  EXPECT_EQ(none.rows(), 0u);
}

}  // namespace
}  // namespace ptft
