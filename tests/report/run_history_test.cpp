// tests/report/run_history_test.cpp — a hand-written metrics.jsonl -> curves, marks, errors.
#include "ptft/report/run_history.h"

#include <gtest/gtest.h>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "sample_run.h"

namespace ptft::report {
namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(RunHistory, ParsesCurvesAndEvents) {
  test::TempDir tmp("report_history");
  const RunHistory h = read_run_history(report_test::write_sample_run(tmp.path + "/run-a"));
  EXPECT_EQ(h.name, "run-a");
  EXPECT_EQ(h.metric, "val_loss");
  EXPECT_EQ(h.family(), "mlp");
  EXPECT_EQ(h.throughput_key, "examples_per_s");
  // The resumed run logged step 30 again: its value replaces the first one.
  const Series& loss = h.train.at("loss");
  EXPECT_EQ(loss.x, (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(loss.y, (std::vector<double>{1.0, 0.8, 0.7}));
  EXPECT_EQ(h.train.at("lr").y.size(), 3u);
  EXPECT_EQ(h.train.count("elapsed_s"), 0u);
  // Float eval keys are curves; counts (val_examples) and arrays are not.
  EXPECT_EQ(h.eval.at("val_loss").y, (std::vector<double>{0.9, 0.95}));
  EXPECT_EQ(h.eval.at("val_accuracy").x, (std::vector<double>{20, 40}));
  EXPECT_EQ(h.eval.count("val_examples"), 0u);
  EXPECT_EQ(h.eval.count("val_confusion"), 0u);
  ASSERT_EQ(h.best.size(), 1u);
  EXPECT_EQ(h.best[0].step, 20);
  EXPECT_DOUBLE_EQ(h.best[0].value, 0.9);
  ASSERT_EQ(h.marks.size(), 4u);
  EXPECT_EQ(h.marks[0].kind, "resume");
  EXPECT_EQ(h.marks[1].kind, "unfreeze");
  EXPECT_EQ(h.marks[1].text, "unfreezing block 1");
  EXPECT_EQ(h.marks[2].kind, "overfit");
  EXPECT_EQ(h.marks[2].step, 40);
  EXPECT_EQ(h.marks[2].advice, (std::vector<std::string>{"raise train.weight_decay <now 0>", "use more data & augmentation"}));
  EXPECT_EQ(h.marks[3].kind, "early_stop");
  EXPECT_EQ(h.last_eval["step"], 40);
  EXPECT_EQ(h.strategy_search["chosen"], "lora");
  EXPECT_EQ(h.class_names, (std::vector<std::string>{"cat <1>", "dog"}));
  EXPECT_EQ(h.last_step, 40);
  EXPECT_EQ(h.status(), "incomplete");  // no summary.json
  ASSERT_TRUE(h.best_point());
  EXPECT_EQ(h.best_point()->step, 20);
}

TEST(RunHistory, SummaryGivesStatusAndBest) {
  test::TempDir tmp("report_summary");
  const std::string dir = report_test::write_sample_run(tmp.path + "/run");
  tmp.write("run/summary.json", R"({"command":"pretrain","steps":40,"early_stopped":true,"interrupted":false,
                                     "best_step":20,"best_metric":0.9,"metric":"val_accuracy"})");
  const RunHistory h = read_run_history(dir);
  EXPECT_EQ(h.status(), "early-stopped");
  EXPECT_EQ(h.metric, "val_accuracy");  // the summary's word wins
  EXPECT_DOUBLE_EQ(h.best_point()->value, 0.9);
}

TEST(RunHistory, CorruptLineNamesFileAndLine) {
  test::TempDir tmp("report_corrupt");
  std::filesystem::create_directories(tmp.path + "/run");
  tmp.write("run/metrics.jsonl", "{\"event\":\"start\"}\n{\"event\":\"train\",\"step\":10,\"loss\":1}\n{not json\n"
                                 "{\"event\":\"train\",\"step\":20,\"loss\":1}\n");
  const std::string err = test::user_error_of([&] { read_run_history(tmp.path + "/run"); });
  EXPECT_TRUE(has(err, tmp.path + "/run/metrics.jsonl:3: not valid JSON")) << err;

  tmp.write("run/metrics.jsonl", "{\"event\":\"start\"}\n[1, 2]\n");
  const std::string err2 = test::user_error_of([&] { read_run_history(tmp.path + "/run"); });
  EXPECT_TRUE(has(err2, "metrics.jsonl:2: not an event")) << err2;
}

TEST(RunHistory, TornLastLineIsSkipped) {
  test::TempDir tmp("report_torn");
  std::filesystem::create_directories(tmp.path + "/run");
  tmp.write("run/metrics.jsonl", "{\"event\":\"train\",\"step\":10,\"loss\":1}\n{\"event\":\"train\",\"st");
  const RunHistory h = read_run_history(tmp.path + "/run");
  EXPECT_EQ(h.torn_lines, 1);
  EXPECT_EQ(h.train.at("loss").x.size(), 1u);
  EXPECT_EQ(h.status(), "incomplete");
}

TEST(RunHistory, NotARunDirectory) {
  test::TempDir tmp("report_notrun");
  const std::string err = test::user_error_of([&] { read_run_history(tmp.path); });
  EXPECT_TRUE(has(err, "'" + tmp.path + "' is not a run directory (no metrics.jsonl)")) << err;
  EXPECT_TRUE(has(err, "hint:")) << err;
  const std::string err2 = test::user_error_of([&] { read_run_history(tmp.path + "/nope"); });
  EXPECT_TRUE(has(err2, "does not exist")) << err2;
}

TEST(RunHistory, UniqueRunNames) {
  EXPECT_EQ(unique_run_names({"a/run", "b/run/", "c/x", "d/run"}),
            (std::vector<std::string>{"run", "run (2)", "x", "run (3)"}));
}

}  // namespace
}  // namespace ptft::report
