// scripts/prepare-fortunes-data.sh end to end: the topic-classification set built from Debian's
// fortunes is three JSONL files of {"text", "label"} rows, the splits share no text, every class
// is in every split, stats.json counts what the files hold, and a second run writes the same
// bytes. Skipped without the fortunes packages (scripts/setup.sh installs them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>

#include "run_ptft.h"

namespace {

// Runs the script into `out`; its stdout and stderr go to `log`.
int prepare(const std::string& out, const std::string& log) {
  const std::string cmd =
      std::string(PTFT_SOURCE_DIR) + "/scripts/prepare-fortunes-data.sh '" + out + "' > '" + log + "' 2>&1";
  return std::system(cmd.c_str());
}

TEST(FortunesData, PrepareTopicSetFromFortunes) {
  if (!e2e::sfs::exists("/usr/share/games/fortunes/computers") ||
      !e2e::sfs::exists("/usr/share/games/fortunes/literature"))
    GTEST_SKIP() << "fortunes / fortunes-min are not installed (sudo scripts/setup.sh installs them)";
  e2e::TempDir tmp;
  const std::string out = tmp.path("fortunes");
  ASSERT_EQ(prepare(out, tmp.path("log")), 0) << e2e::read_text(tmp.path("log"));
  EXPECT_TRUE(e2e::contains(e2e::read_text(tmp.path("log")), "fortunes:")) << e2e::read_text(tmp.path("log"));

  const std::vector<std::string> splits = {"train", "val", "test"};
  std::map<std::string, std::map<std::string, int64_t>> counts;  // split -> label -> rows
  std::map<std::string, std::string> split_of;                   // text -> its split
  for (const auto& split : splits) {
    const std::string path = out + "/" + split + ".jsonl";
    ASSERT_TRUE(e2e::sfs::exists(path)) << path;
    std::vector<nlohmann::json> rows;
    ASSERT_NO_THROW(rows = e2e::read_jsonl(path)) << path;
    for (const auto& j : rows) {
      ASSERT_TRUE(j.is_object() && j.size() == 2u) << j.dump();
      ASSERT_TRUE(j.contains("text") && j["text"].is_string()) << j.dump();
      ASSERT_TRUE(j.contains("label") && j["label"].is_string()) << j.dump();
      const std::string text = j["text"];
      EXPECT_GE(text.size(), 20u) << j.dump();
      EXPECT_LE(text.size(), 1000u * 4) << j.dump();  // 1000 characters of UTF-8
      EXPECT_EQ(text.find_first_of("\n\t\b"), std::string::npos) << j.dump();
      const auto [it, fresh] = split_of.emplace(text, split);
      EXPECT_TRUE(fresh) << "in " << it->second << " and " << split << ": " << text;
      ++counts[split][j["label"].get<std::string>()];
    }
  }
  // Every class in every split, ~70/10/20 of it.
  const nlohmann::json stats = e2e::read_json(out + "/stats.json");
  const auto classes = stats.at("classes").get<std::vector<std::string>>();
  EXPECT_GE(classes.size(), 8u);
  EXPECT_LE(classes.size(), 10u);
  for (const auto& c : classes) {
    for (const auto& split : splits) {
      EXPECT_GT(counts[split][c], 0) << c << " missing from " << split;
      EXPECT_EQ(stats.at("per_class").at(c).at(split).get<int64_t>(), counts[split][c]) << c << " " << split;
    }
    EXPECT_GT(counts["train"][c], 5 * counts["val"][c]) << c;
    EXPECT_GT(counts["test"][c], counts["val"][c]) << c;
  }
  for (const auto& split : splits) EXPECT_EQ(counts[split].size(), classes.size()) << split << ": other labels";
  EXPECT_NE(stats.at("source").at("packages").at("fortunes").get<std::string>(), "unknown");

  // A rerun (into the existing directory) writes the same bytes and leaves no temp files.
  std::map<std::string, std::string> first;
  for (const auto& f : e2e::list_tree(out)) first[f] = e2e::read_text(out + "/" + f);
  ASSERT_EQ(prepare(out, tmp.path("log2")), 0) << e2e::read_text(tmp.path("log2"));
  EXPECT_EQ(e2e::list_tree(out), (std::vector<std::string>{"stats.json", "test.jsonl", "train.jsonl", "val.jsonl"}));
  for (const auto& [f, bytes] : first) EXPECT_TRUE(e2e::read_text(out + "/" + f) == bytes) << f << " changed";
}

}  // namespace
