// tests/e2e/report_test.cpp — `ptft report` and the report.html every run writes, rendered by a
// real browser (headless Chromium, /usr/bin/chromium; scripts/setup.sh installs it).
//
// Two short spirals runs (the MLP classifier: confusion matrices, val_accuracy) are trained
// once for the suite; the GPT sample uses the tiny GPT of gpt_fixture.h.
#include <regex>

#include "gpt_fixture.h"
#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;

const char* const kChromium = "/usr/bin/chromium";

class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new e2e::TempDir("Report-runs");
    for (const char* name : {"run1", "run2"}) {
      const std::string lr = std::string(name) == "run1" ? "train.lr=0.01" : "train.lr=0.003";
      const auto r = e2e::run_ptft(
          e2e::spirals_args("pretrain", tmp_->path(name), {"train.steps=60", "train.eval_every=20", lr}));
      ASSERT_EQ(r.exit_code, 0) << r.text();
    }
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  static std::string run(const std::string& name) { return tmp_->path(name); }
  static e2e::TempDir* tmp_;
};
e2e::TempDir* Report::tmp_ = nullptr;

size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}

TEST_F(Report, EveryRunWritesItsOwnReport) {
  for (const char* name : {"run1", "run2"}) {
    const std::string page = e2e::read_text(run(name) + "/report.html");
    EXPECT_TRUE(e2e::contains(page, "</html>")) << name;
    EXPECT_TRUE(e2e::contains(page, std::string(">") + name + "</a>")) << name;
    EXPECT_TRUE(e2e::contains(page, "class=\"heatmap\"")) << "the spirals classifier has a confusion matrix";
    EXPECT_TRUE(e2e::contains(page, "val accuracy"));
    EXPECT_FALSE(e2e::contains(page, "<script"));
  }
}

TEST_F(Report, ComparesTwoRuns) {
  const std::string out = tmp_->path("cmp.html");
  const auto r = e2e::run_ptft({"report", run("run1"), run("run2"), "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(e2e::contains(r.out, "wrote " + out));
  const std::string page = e2e::read_text(out);
  EXPECT_TRUE(e2e::contains(page, ">run1</a>"));
  EXPECT_TRUE(e2e::contains(page, ">run2</a>"));
  EXPECT_TRUE(e2e::contains(page, ">run1 train</text>"));  // overlaid curves, one legend entry each
  EXPECT_TRUE(e2e::contains(page, ">run2 validation</text>"));
  EXPECT_TRUE(e2e::contains(page, "<svg"));
  EXPECT_TRUE(e2e::contains(page, "<th>best (step)</th>"));  // the comparison table
  EXPECT_EQ(count(page, "<td>pretrain</td>"), 2u);
  EXPECT_EQ(count(page, "class=\"heatmap\""), 2u);
  // The same run twice: names made unique.
  const auto twice = e2e::run_ptft({"report", run("run1"), run("run1"), "--out", out});
  ASSERT_EQ(twice.exit_code, 0) << twice.text();
  EXPECT_TRUE(e2e::contains(e2e::read_text(out), ">run1 (2)</a>"));
}

TEST(ReportGpt, SampleOnlyWhenAsked) {
  const e2e::TinyGpt& g = e2e::tiny_gpt();
  ASSERT_TRUE(g.ok);
  e2e::TempDir tmp;
  // The end-of-run report has no sample (it would load the model again).
  EXPECT_FALSE(e2e::contains(e2e::read_text(g.run + "/report.html"), "<h3>Sample</h3>"));
  const auto r = e2e::run_ptft({"report", g.run, "--out", tmp.path("gpt.html"), "--sample-tokens", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const std::string page = e2e::read_text(tmp.path("gpt.html"));
  EXPECT_TRUE(e2e::contains(page, "<h3>Sample</h3>")) << page;
  EXPECT_TRUE(e2e::contains(page, "<pre class=\"sample\">"));
  EXPECT_TRUE(e2e::contains(page, "val perplexity")) << "a GPT run's evaluation curves";
  const auto none = e2e::run_ptft({"report", g.run, "--out", tmp.path("gpt.html"), "--no-samples"});
  ASSERT_EQ(none.exit_code, 0) << none.text();
  EXPECT_FALSE(e2e::contains(e2e::read_text(tmp.path("gpt.html")), "<h3>Sample</h3>"));
}

TEST_F(Report, ErrorsNameTheDirectory) {
  const std::string out = tmp_->path("bad.html");
  const auto missing = e2e::run_ptft({"report", tmp_->path("nope"), "--out", out});
  EXPECT_EQ(missing.exit_code, 1) << missing.text();
  EXPECT_TRUE(e2e::contains(missing.err, "run directory '" + tmp_->path("nope") + "' does not exist")) << missing.err;

  sfs::create_directories(tmp_->path("empty"));
  const auto not_run = e2e::run_ptft({"report", run("run1"), tmp_->path("empty"), "--out", out});
  EXPECT_EQ(not_run.exit_code, 1) << not_run.text();
  EXPECT_TRUE(e2e::contains(not_run.err, "'" + tmp_->path("empty") + "' is not a run directory (no metrics.jsonl)"))
      << not_run.err;
  EXPECT_TRUE(e2e::contains(not_run.err, "hint:"));
  EXPECT_FALSE(sfs::exists(out)) << "nothing is written when a run cannot be read";
}

TEST_F(Report, ChromiumRendersTheCharts) {
  ASSERT_TRUE(sfs::exists(kChromium)) << kChromium << " not found: headless Chromium renders the report in this "
                                      << "test; scripts/setup.sh installs it (apt-get install chromium)";
  const std::string page = tmp_->path("cmp-browser.html");
  const auto r = e2e::run_ptft({"report", run("run1"), run("run2"), "--out", page});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto chromium = [&](const std::string& profile, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                     "--disable-dev-shm-usage", "--user-data-dir=" + tmp_->path(profile),
                                     "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("file://" + page);
    return e2e::run_program(kChromium, args, tmp_->root(), std::chrono::seconds(60));
  };
  const auto dom = chromium("profile-dom", {"--dump-dom"});
  ASSERT_EQ(dom.exit_code, 0) << dom.text().substr(0, 4000);
  EXPECT_FALSE(e2e::contains(dom.err, "CONSOLE")) << dom.err;
  EXPECT_FALSE(e2e::contains(dom.err, "Uncaught")) << dom.err;
  // The loss chart as the browser built it: a polyline with points for every curve
  // (2 runs x train, validation).
  const size_t start = dom.out.find("<title>loss</title>");
  ASSERT_NE(start, std::string::npos) << dom.out.substr(0, 2000);
  const std::string loss_svg = dom.out.substr(start, dom.out.find("</svg>", start) - start);
  const std::regex line(R"re(<polyline class="series"[^>]* points="([^"]+)")re");
  size_t curves = 0;
  for (auto it = std::sregex_iterator(loss_svg.begin(), loss_svg.end(), line); it != std::sregex_iterator(); ++it) {
    const std::string points = (*it)[1];
    EXPECT_GE(count(points, ","), 3u) << points;  // at least 3 points (steps 20, 40, 60)
    ++curves;
  }
  EXPECT_EQ(curves, 4u) << loss_svg;
  EXPECT_GE(count(dom.out, "<svg"), 6u);  // loss, lr, throughput, val accuracy, val macro-F1, 2 heat maps

  const std::string png = tmp_->path("report.png");
  const auto shot = chromium("profile-shot", {"--screenshot=" + png, "--window-size=1200,2000"});
  ASSERT_EQ(shot.exit_code, 0) << shot.text().substr(0, 4000);
  ASSERT_TRUE(sfs::exists(png)) << shot.err;
  EXPECT_GT(sfs::file_size(png), 30000u) << "a blank page compresses to a few KB";
  EXPECT_EQ(e2e::read_text(png).substr(1, 3), "PNG");
}

}  // namespace
