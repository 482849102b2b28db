// Chat / instruction fine-tuning end to end: `ptft finetune` with task sft on JSONL rows made
// from real text (a licence line as the prompt, the next line as the answer), from the tiny
// pre-trained GPT. The checkpoint carries the chat template; loss is on answers only; bad rows
// are errors with their line number.
#include <gtest/gtest.h>

#include <fstream>

#include "gpt_fixture.h"

namespace {
using e2e::contains;
namespace sfs = std::filesystem;

// {"prompt": the first word of line i, "response": the first words of line i+1} for the
// non-empty lines of a licence (short: the fixture's context is 32 tokens).
void write_rows(const std::string& path, const std::string& licence, size_t first, size_t count) {
  std::istringstream in(e2e::read_text(licence));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (l.find_first_not_of(" \t") != std::string::npos) lines.push_back(l.substr(l.find_first_not_of(" \t")));
  std::ofstream out(path);
  for (size_t i = first; i + 1 < lines.size() && i < first + count; ++i)
    out << nlohmann::json({{"prompt", lines[i].substr(0, lines[i].find(' '))}, {"response", lines[i + 1].substr(0, 16)}})
               .dump()
        << "\n";
}

TEST(SftE2E, FinetunesOnAnswersAndStoresTheChatTemplate) {
  const auto& g = e2e::tiny_gpt();
  ASSERT_TRUE(g.ok);
  e2e::TempDir tmp;
  write_rows(tmp.path("train.jsonl"), "/usr/share/common-licenses/GPL-3", 0, 200);
  write_rows(tmp.path("val.jsonl"), "/usr/share/common-licenses/GPL-3", 300, 40);
  e2e::write_text(tmp.path("sft.yaml"),
                  "task: sft\ndata: {train: " + tmp.path("train.jsonl") + ", val: " + tmp.path("val.jsonl") + "}\n" +
                      "train: {steps: 30, batch_size: 8, lr: 3.0e-3, warmup: 0, eval_every: 30, eval_batches: 5,\n"
                      "        save_every: 30, weight_decay: 0.0}\n");
  auto r = e2e::run_ptft({"finetune", "--config", tmp.path("sft.yaml"), "--from", g.ckpt, "--out", tmp.path("run"),
                          "--threads", "1", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto summary = e2e::read_json(tmp.path("run") + "/summary.json");
  EXPECT_LT(summary["last_eval"]["val_loss"].get<double>(), summary["first_eval"]["val_loss"].get<double>())
      << summary.dump(2);
  auto cfg = e2e::read_json(tmp.path("run") + "/checkpoints/last/config.json");
  ASSERT_TRUE(cfg["ptft"].contains("chat_template")) << cfg.dump(2);
  EXPECT_EQ(cfg["ptft"]["chat_template"]["name"], "ptft-chat");
  EXPECT_EQ(cfg["ptft"]["chat_template"]["assistant_end"], "<|endoftext|>\n");
  EXPECT_EQ(cfg["ptft"]["task"], "sft");

  // A row without its response: the error names the file and the line.
  std::ofstream(tmp.path("bad.jsonl")) << R"({"prompt": "a", "response": "b"})" << "\n"
                                       << R"({"prompt": "c", "response": "d"})" << "\n"
                                       << R"({"prompt": "e"})" << "\n";
  auto bad = e2e::run_ptft({"finetune", "--config", tmp.path("sft.yaml"), "--from", g.ckpt, "--out", tmp.path("bad"),
                            "--set", "data.train=" + tmp.path("bad.jsonl"), "--threads", "1", "--quiet"});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_TRUE(contains(bad.err, tmp.path("bad.jsonl") + ":3")) << bad.err;
  EXPECT_TRUE(contains(bad.err, "response")) << bad.err;
  EXPECT_FALSE(sfs::exists(tmp.path("bad")));
}

}  // namespace
