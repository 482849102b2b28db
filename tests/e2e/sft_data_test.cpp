// scripts/prepare-sft-data.sh end to end: the medical SFT set built from dict-gcide is valid
// JSONL with string prompt/response rows, a few hundred of them or more, split by term (no
// prompt term in both files), with the dictionary markup gone. Skipped without dict-gcide
// (scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>

#include "run_ptft.h"

namespace {

// The term in a prompt: the text between its double quotes.
std::string quoted_term(const std::string& prompt) {
  const auto a = prompt.find('"'), b = prompt.rfind('"');
  return a == std::string::npos || b <= a ? std::string() : prompt.substr(a + 1, b - a - 1);
}

TEST(SftData, PrepareMedicalSetFromGcide) {
  if (!e2e::sfs::exists("/usr/share/dictd/gcide.dict.dz"))
    GTEST_SKIP() << "dict-gcide is not installed (sudo scripts/setup.sh installs it)";
  e2e::TempDir tmp;
  const std::string out = tmp.path("medical");
  const std::string cmd = std::string(PTFT_SOURCE_DIR) + "/scripts/prepare-sft-data.sh '" + out + "' > '" +
                          tmp.path("log") + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << e2e::read_text(tmp.path("log"));
  const std::string log = e2e::read_text(tmp.path("log"));
  EXPECT_TRUE(e2e::contains(log, "medical SFT:")) << log;

  std::map<std::string, std::set<std::string>> terms;  // split -> terms
  std::map<std::string, std::size_t> rows;
  bool saw_abdomen = false;
  for (const std::string split : {"train", "val"}) {
    const std::string path = out + "/" + split + ".jsonl";
    ASSERT_TRUE(e2e::sfs::exists(path)) << path;
    std::vector<nlohmann::json> lines;
    ASSERT_NO_THROW(lines = e2e::read_jsonl(path)) << path;
    rows[split] = lines.size();
    for (const auto& j : lines) {
      ASSERT_TRUE(j.is_object()) << j.dump();
      ASSERT_EQ(j.size(), 2u) << j.dump();
      ASSERT_TRUE(j.contains("prompt") && j["prompt"].is_string()) << j.dump();
      ASSERT_TRUE(j.contains("response") && j["response"].is_string()) << j.dump();
      const std::string prompt = j["prompt"], response = j["response"];
      const std::string term = quoted_term(prompt);
      EXPECT_FALSE(term.empty()) << prompt;
      EXPECT_GE(response.size(), 12u) << j.dump();
      // Markup is gone: no pronunciation stars, source tags, braces or field labels.
      for (const char* markup : {"\\", "{", "}", "[1913", "Webster]", "(Med.)", "(Anat.)", "(Physiol.)", "[AS]", "--"})
        EXPECT_FALSE(e2e::contains(response, markup)) << markup << " in " << j.dump();
      terms[split].insert(term);
      if (term == "abdomen") saw_abdomen = saw_abdomen || e2e::contains(response, "belly");
    }
  }
  EXPECT_GE(rows["train"], 300u);
  EXPECT_GE(rows["val"], 20u);
  EXPECT_LT(rows["val"] * 5, rows["train"]);  // ~10%
  for (const auto& t : terms["val"]) EXPECT_EQ(terms["train"].count(t), 0u) << t << " in both splits";
  EXPECT_TRUE(saw_abdomen) << "GCIDE's anatomical 'abdomen' (\"The belly, ...\") is missing";
}

}  // namespace
