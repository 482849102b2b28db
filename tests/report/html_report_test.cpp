// tests/report/html_report_test.cpp — the page of a hand-written run: every section, escaped.
#include "ptft/report/html_report.h"

#include <gtest/gtest.h>

#include "../common/files.h"
#include "../common/temp_dir.h"
#include "sample_run.h"

namespace ptft::report {
namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}

TEST(HtmlReport, OneRunHasEverySection) {
  test::TempDir tmp("report_page");
  const RunHistory h = read_run_history(report_test::write_sample_run(tmp.path + "/run-a"));
  RunSample sample;
  sample.text = "hello <world>";
  const std::string page = render_report({h}, {sample}, {});
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_FALSE(has(page, "<script"));
  EXPECT_FALSE(has(page, "src=\"http") || has(page, "href=\"http") || has(page, "url("));  // loads nothing
  // Charts: loss, lr, throughput, val_accuracy (val_loss is on the loss chart).
  EXPECT_EQ(count(page, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""), 4u);
  for (const char* part : {
           ">best 0.9 @ 20</text>",  // the best step on the loss chart; the marked events:
           ">early stop</text>", ">overfit</text>", ">resume</text>", ">unfreeze</text>", "examples/s",
           // the advice, escaped
           "<li>raise train.weight_decay &lt;now 0&gt;</li>", "<li>use more data &amp; augmentation</li>",
           // strategy search: the chosen candidate highlighted
           "<tr class=\"chosen\"><td>lora</td>", "<td>head</td>",
           // the confusion matrix of the last evaluation (step 40) with the checkpoint's class names
           "class=\"heatmap\"", "<h3>Confusion matrix</h3>", ">step 40, rows: true class</text>", "cat &lt;1&gt;",
           "hello &lt;world&gt;", "no summary.json yet"})
    EXPECT_TRUE(has(page, part)) << part << "\n" << page;
  EXPECT_FALSE(has(page, "cat <1>"));
}

TEST(HtmlReport, RunsOverlaidAndCompared) {
  test::TempDir tmp("report_two");
  report_test::write_sample_run(tmp.path + "/a/run");
  report_test::write_sample_run(tmp.path + "/b/run");
  tmp.write("b/run/summary.json", R"({"command":"finetune","steps":40,"best_step":20,"best_metric":0.9,
      "metric":"val_loss","last_eval":{"val_loss":0.95},"wall_seconds":75,"parameters":1234,
      "trainable_parameters":1000,"examples_seen":2560})");
  const std::string out = tmp.path + "/cmp.html";
  write_report({tmp.path + "/a/run", tmp.path + "/b/run"}, out, {});
  const std::string page = test::read_text(out);
  EXPECT_TRUE(has(page, ">run</a>"));
  EXPECT_TRUE(has(page, ">run (2)</a>"));
  EXPECT_TRUE(has(page, ">run train</text>"));      // legend: one entry per run and curve
  EXPECT_TRUE(has(page, ">run (2) train</text>"));
  EXPECT_TRUE(has(page, "<td>finetune</td>"));
  EXPECT_TRUE(has(page, ">1 min 15 s</td>"));
  EXPECT_TRUE(has(page, ">2560 examples</td>"));
  EXPECT_TRUE(has(page, ">0.95</td>"));              // final val_loss from the summary
  EXPECT_EQ(count(page, "<polyline class=\"series\" fill=\"none\" stroke=\"#1f77b4\""),
            count(page, "<polyline class=\"series\" fill=\"none\" stroke=\"#d62728\""));
}

TEST(HtmlReport, EndOfRunReportNeverThrows) {
  test::TempDir tmp("report_endrun");
  write_run_report(tmp.path + "/missing");  // warns
  EXPECT_FALSE(std::filesystem::exists(tmp.path + "/missing/report.html"));
  report_test::write_sample_run(tmp.path + "/run");
  write_run_report(tmp.path + "/run");
  EXPECT_TRUE(has(test::read_text(tmp.path + "/run/report.html"), "</html>"));
}

}  // namespace
}  // namespace ptft::report
