// End-to-end: a LoRA fine-tune of a Hugging Face BERT classifier writes adapters that PEFT can
// load onto that model. The base is an HF directory from the independent numpy reference
// (tests/io/hf_bert_reference.py make DIR --classifier 3: BertForSequenceClassification names,
// vocab.txt); `ptft finetune --from DIR` with strategy lora trains it a few steps on labelled
// JSONL of its own words; tests/io/peft_adapter_check.py (numpy only, PEFT's loading rules as its
// sources state them) then checks adapter_model.safetensors + adapter_config.json against the base
// directory's module names and shapes. And the check can fail: a file whose adapter carries the
// old fused name (attn.c_attn) is refused. Without python3 + numpy the test skips.
#include <gtest/gtest.h>

#include "../common/python.h"
#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

const std::string kReference = PTFT_SOURCE_DIR "/tests/io/hf_bert_reference.py";
const std::string kCheck = PTFT_SOURCE_DIR "/tests/io/peft_adapter_check.py";

// `python3 script args` through the shell, stdout and stderr apart.
e2e::Result run_python(const std::string& script, const std::string& args) {
  return e2e::run_program("/bin/sh", {"-c", ptft::test::python_with_numpy() + " " + script + " " + args});
}

// Labelled sentences of the reference vocabulary: which animal or thing the sentence is about.
std::string labelled_jsonl(int copies) {
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"the cat sat on the mat", "label_a"},   {"a small cat is running", "label_a"},
      {"the big dog was red", "label_b"},      {"a dog and the dog ran", "label_b"},
      {"the house is blue", "label_c"},        {"we have a big red house", "label_c"}};
  std::string out;
  for (int i = 0; i < copies; ++i)
    for (const auto& [text, label] : examples) out += nlohmann::json{{"text", text}, {"label", label}}.dump() + "\n";
  return out;
}

TEST(BertPeftE2E, LoraAdaptersOfAnHfClassifierFollowPeftsLoadingRules) {
  if (ptft::test::python_with_numpy().empty()) GTEST_SKIP() << "no python3 with numpy for the PEFT check";
  e2e::TempDir tmp;
  const std::string hf = tmp.path("hf");
  auto made = run_python(kReference, "make " + hf + " --classifier 3");
  ASSERT_EQ(made.exit_code, 0) << made.text();
  e2e::write_text(tmp.path("train.jsonl"), labelled_jsonl(4));
  e2e::write_text(tmp.path("val.jsonl"), labelled_jsonl(1));
  e2e::write_text(tmp.path("ft.yaml"),
                  "data: {train: " + tmp.path("train.jsonl") + ", val: " + tmp.path("val.jsonl") + "}\n" +
                      "train: {steps: 4, batch_size: 4, lr: 1.0e-2, warmup: 0, eval_every: 4, save_every: 4, seed: 1}\n"
                      "finetune: {strategy: lora, lora: {r: 4, alpha: 8, targets: [query, key, value, dense]}}\n");
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", hf, "--out", run, "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const std::string ckpt = run + "/checkpoints/last";
  ASSERT_TRUE(sfs::exists(ckpt + "/adapter_model.safetensors"));

  const auto config = e2e::read_json(ckpt + "/adapter_config.json");
  EXPECT_EQ(config["task_type"], "SEQ_CLS");
  EXPECT_EQ(config["fan_in_fan_out"], false);
  // "dense" would also take in bert.pooler.dense, which trains whole (modules_to_save).
  EXPECT_EQ(config["target_modules"], nlohmann::json({"query", "key", "value", "output.dense", "intermediate.dense"}));
  const auto adapters = e2e::read_tensors(ckpt + "/adapter_model.safetensors");
  EXPECT_EQ(adapters.at("base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight").shape,
            (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(adapters.at("base_model.model.bert.encoder.layer.0.intermediate.dense.lora_B.weight").shape,
            (std::vector<int64_t>{64, 4}));

  // 2 layers x 6 projections, each lora_A + lora_B; the pooler and the classifier (weight + bias).
  auto ok = run_python(kCheck, ckpt + " " + hf);
  EXPECT_EQ(ok.exit_code, 0) << ok.text();
  EXPECT_TRUE(contains(ok.out, "ok: 12 adapted modules (24 LoRA tensors), 4 saved tensors")) << ok.out;

  // The same file with one adapter under its pre-HF-names name: PEFT would find no module for it.
  const std::string bad = tmp.path("old-names");
  sfs::create_directories(bad);
  sfs::copy_file(ckpt + "/adapter_config.json", bad + "/adapter_config.json");
  std::vector<ptft::safetensors::TensorRef> refs;
  for (const auto& [name, t] : adapters) {
    std::string n = name;
    const std::string query = "bert.encoder.layer.0.attention.self.query.lora_A.weight";
    if (n == "base_model.model." + query) n = "base_model.model.bert.encoder.layer.0.attn.c_attn.lora_A.weight";
    refs.push_back({n, ptft::safetensors::parse_dtype(t.dtype), t.shape, t.bytes.data(), t.bytes.size()});
  }
  ptft::safetensors::write(bad + "/adapter_model.safetensors", refs, {{"format", "pt"}});
  auto refused = run_python(kCheck, bad + " " + hf);
  EXPECT_EQ(refused.exit_code, 1) << refused.text();
  EXPECT_TRUE(contains(refused.err, "unexpected tensor base_model.model.bert.encoder.layer.0.attn.c_attn.lora_A.weight"))
      << refused.err;
  EXPECT_TRUE(contains(refused.err, "missing tensor base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"))
      << refused.err;
}

}  // namespace
