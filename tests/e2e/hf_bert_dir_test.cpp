// End-to-end: a BERT directory as Hugging Face writes it — config.json + model.safetensors +
// vocab.txt + tokenizer_config.json, nothing of ptft's — is a model for every command, its
// tokenizer found beside the weights; and `--tokenizer` takes a run or checkpoint directory as
// `--model` does.
//
// The directory is a random-weight BertForSequenceClassification written by the numpy reference
// (tests/io/hf_bert_reference.py), which also computes its logits; predict's probabilities must be
// their softmax (float32 against float64: within 1e-4).
#include <gtest/gtest.h>

#include <cmath>

#include "../common/python.h"
#include "run_ptft.h"

namespace e2e {
namespace {

const std::string kReference = PTFT_SOURCE_DIR "/tests/io/hf_bert_reference.py";

// softmax of the reference classifier's logits for `ids` (one sequence, no padding).
std::vector<double> reference_probabilities(const std::string& dir, const std::vector<int64_t>& ids) {
  std::string args = "hidden " + dir + " --ids";
  for (int64_t id : ids) args += " " + std::to_string(id);
  const std::string out = ptft::test::run_reference(kReference, args);
  if (out.empty()) return {};
  std::vector<double> p;
  double sum = 0;
  const nlohmann::json j = nlohmann::json::parse(out);
  for (const auto& v : j["logits"]) sum += p.emplace_back(std::exp(v.get<double>()));
  for (double& x : p) x /= sum;
  return p;
}

TEST(HfBertDirE2E, PredictAndEncodeReadTheTokenizerBesideTheWeights) {
  PTFT_REQUIRE_NUMPY("the reference BERT");
  TempDir tmp("hf-bert-dir");
  const std::string hf = tmp.path("bert");
  ptft::test::run_reference(kReference, "make " + hf + " --classifier 3 --seed 11");
  write_text(hf + "/tokenizer_config.json", R"({"do_lower_case": true, "tokenizer_class": "BertTokenizer"})");

  // "The cat sat on the mat" lower-cased: [CLS] the cat sat on the mat [SEP] in the reference's vocab.txt.
  auto enc = run_ptft({"tokenizer", "encode", "--tokenizer", hf, "The cat sat on the mat"});
  ASSERT_EQ(enc.exit_code, 0) << enc.text();
  EXPECT_EQ(enc.out.substr(0, enc.out.find_last_not_of("\n") + 1), "5 7 9 10 5 11");

  auto p = run_ptft({"predict", "--model", hf, "--text", "The cat sat on the mat", "--top-k", "3", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.text();
  const auto top = nlohmann::json::parse(p.out)["predictions"][0]["top"];
  const std::vector<double> want = reference_probabilities(hf, {2, 5, 7, 9, 10, 5, 11, 3});
  ASSERT_EQ(want.size(), 3u);
  ASSERT_EQ(top.size(), 3u);
  const std::vector<std::string> labels = {"label_a", "label_b", "label_c"};  // the reference's id2label
  for (const auto& t : top) {
    const auto at = std::find(labels.begin(), labels.end(), t["label"].get<std::string>());
    ASSERT_NE(at, labels.end()) << t.dump();
    EXPECT_NEAR(t["probability"].get<double>(), want[static_cast<size_t>(at - labels.begin())], 1e-4) << t.dump();
  }
}

TEST(HfBertDirE2E, FineTunesFromItAndTheRunDirectoryIsATokenizer) {
  PTFT_REQUIRE_NUMPY("the reference BERT");
  TempDir tmp("hf-bert-ft");
  const std::string hf = tmp.path("bert");
  ptft::test::run_reference(kReference, "make " + hf + " --classifier 3 --seed 11");
  std::string rows;
  for (int i = 0; i < 8; ++i)
    rows += i % 2 ? R"({"text": "the big red dog ran to the house", "label": "dog"})"
                  : R"({"text": "a small cat sat on the mat", "label": "cat"})";
  for (size_t at = 0; (at = rows.find("}{", at)) != std::string::npos;) rows.replace(at, 2, "}\n{");
  write_text(tmp.path("train.jsonl"), rows + "\n");
  write_text(tmp.path("ft.yaml"), "data: {train: " + tmp.path("train.jsonl") + "}\ntrain: {steps: 2, batch_size: 4}\n");
  const std::string run = tmp.path("ft");
  auto f = run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", hf, "--out", run, "--threads", "1", "--quiet"});
  ASSERT_EQ(f.exit_code, 0) << f.text();

  // The run, its checkpoint and the Hugging Face directory name the same WordPiece vocabulary.
  for (const std::string& where : {run, run + "/checkpoints/last", hf}) {
    auto r = run_ptft({"tokenizer", "encode", "--tokenizer", where, "a small cat"});
    ASSERT_EQ(r.exit_code, 0) << where << ": " << r.text();
    EXPECT_EQ(r.out.substr(0, r.out.find_last_not_of("\n") + 1), "6 29 7") << where;
  }
  auto none = run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path(""), "a"});
  EXPECT_EQ(none.exit_code, 1) << none.text();
  EXPECT_TRUE(contains(none.err, "checkpoints/best|last/tokenizer")) << none.err;  // where it looked
}

}  // namespace
}  // namespace e2e
