// End-to-end: BERT with the real binary on real text (/usr/share/common-licenses).
//
// A 400-piece BERT-family SentencePiece vocabulary and token shards of every licence; a 2-block,
// 32-wide BERT pre-trained with masked LM for 200 steps; a 3-class text-classification set of
// licence paragraphs labelled by their licence (GPL-3, Apache-2.0, MPL-2.0; every 5th paragraph
// held out). Then: fine-tuning with every strategy (new head from the data's classes, id2label in
// the checkpoint), predict --text, eval on JSONL, export to a Hugging Face directory that
// fine-tunes and evaluates again, and the errors a user meets.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "run_ptft.h"

namespace e2e {
namespace {

struct TinyBert {
  TempDir dir{"tiny-bert"};
  std::string tok = dir.path("tok");
  std::string shards = dir.path("shards");
  std::string pre = dir.path("pre");
  std::string train = dir.path("train.jsonl");
  std::string val = dir.path("val.jsonl");
  bool ok = false;
};

const char* kModel =
    "model: {family: bert, vocab_size: 400, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2,\n"
    "        intermediate_size: 64, max_position_embeddings: 64}\n";

// Paragraphs (blank-line blocks) of at least 40 characters, whitespace collapsed.
std::vector<std::string> paragraphs(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(read_text(path));
  std::string line;
  auto flush = [&] {
    if (cur.size() >= 40) out.push_back(cur);
    cur.clear();
  };
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) {
      flush();
      continue;
    }
    cur += (cur.empty() ? "" : " ") + line.substr(b);
  }
  flush();
  return out;
}

const TinyBert& tiny_bert() {
  static std::unique_ptr<TinyBert> g = [] {
    auto t = std::make_unique<TinyBert>();
    const std::string lic = "/usr/share/common-licenses/";
    auto fail = [&](const char* what, const Result& r) {
      ADD_FAILURE() << "making the tiny BERT fixture: " << what << " failed: " << r.text();
      return std::move(t);
    };
    auto tok = run_ptft({"tokenizer", "train", "--input", lic + "GPL-3", lic + "Apache-2.0", lic + "MPL-2.0",
                         "--vocab-size", "400", "--type", "bpe", "--family", "bert", "--out", t->tok, "--threads", "1"});
    if (tok.exit_code != 0) return fail("tokenizer train", tok);
    auto prep = run_ptft({"data", "prepare", "--tokenizer", t->tok, "--input", lic, "--out", t->shards,
                          "--val-fraction", "0.15", "--threads", "1", "--quiet"});
    if (prep.exit_code != 0) return fail("data prepare", prep);
    write_text(t->dir.path("pre.yaml"),
               std::string(kModel) + "data: {train: " + t->shards + ", val: " + t->shards + "}\n" +
                   "train: {steps: 200, batch_size: 16, lr: 3.0e-3, warmup: 10, eval_every: 100, eval_batches: 4,\n"
                   "        save_every: 200, weight_decay: 0.0, seed: 7}\n");
    auto pre = run_ptft({"pretrain", "--config", t->dir.path("pre.yaml"), "--out", t->pre, "--threads", "1"});
    if (pre.exit_code != 0) return fail("pretrain", pre);
    std::string train, val;
    for (const char* name : {"GPL-3", "Apache-2.0", "MPL-2.0"}) {
      const auto ps = paragraphs(lic + name);
      for (size_t i = 0; i < ps.size(); ++i)
        (i % 5 == 4 ? val : train) += nlohmann::json{{"text", ps[i]}, {"label", name}}.dump() + "\n";
    }
    write_text(t->train, train);
    write_text(t->val, val);
    t->ok = true;
    return t;
  }();
  return *g;
}

std::string finetune_yaml(const TinyBert& b, const std::string& extra) {
  return "data: {train: " + b.train + ", val: " + b.val + "}\n"
         "train: {steps: 300, batch_size: 16, lr: 1.0e-3, warmup: 10, eval_every: 150, save_every: 300, seed: 3,\n"
         "        metric: val_accuracy}\n" + extra;
}

nlohmann::json last_eval(const std::string& run) {
  nlohmann::json last;
  for (const auto& e : read_jsonl(run + "/metrics.jsonl"))
    if (e.value("event", "") == "eval") last = e;
  return last;
}

TEST(BertE2E, MaskedLmPretrainingLogsLossAndAccuracyAndWritesABertCheckpoint) {
  const TinyBert& b = tiny_bert();
  ASSERT_TRUE(b.ok);
  double first = -1, last = -1;
  int evals = 0;
  for (const auto& e : read_jsonl(b.pre + "/metrics.jsonl")) {
    if (e.value("event", "") == "start") {
      EXPECT_EQ(e["config"]["task"], "masked_lm");
    }
    if (e.value("event", "") == "train") {
      if (first < 0) first = e["loss"].get<double>();
      last = e["loss"].get<double>();
    }
    if (e.value("event", "") == "eval") {
      ++evals;
      EXPECT_TRUE(e.contains("val_accuracy")) << e.dump();
      EXPECT_GT(e["val_loss"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(evals, 2);
  EXPECT_LT(last, first - 0.5) << "MLM loss should fall: " << first << " -> " << last;
  const auto cfg = read_json(b.pre + "/checkpoints/last/config.json");
  EXPECT_EQ(cfg["model_type"], "bert");
  EXPECT_EQ(cfg["architectures"][0], "BertForMaskedLM");
  EXPECT_EQ(cfg["ptft"]["task"], "masked_lm");
  EXPECT_TRUE(sfs::exists(b.pre + "/checkpoints/last/tokenizer/tokenizer_config.json"));
  // ptft eval on the shards: masked-LM loss and accuracy.
  auto ev = run_ptft({"eval", "--model", b.pre, "--data", b.shards, "--json", "--threads", "1"});
  ASSERT_EQ(ev.exit_code, 0) << ev.text();
  const auto m = nlohmann::json::parse(ev.out);
  EXPECT_GT(m["tokens"].get<int64_t>(), 0);
  EXPECT_GT(m["accuracy"].get<double>(), 0.0);
  EXPECT_LT(m["accuracy"].get<double>(), 1.0);
  EXPECT_LT(m["loss"].get<double>(), std::log(400.0)) << "a trained masked LM beats the uniform guess";
}

TEST(BertE2E, FineTunesANewClassifierThatBeatsChanceAndPredictsAndEvaluates) {
  const TinyBert& b = tiny_bert();
  ASSERT_TRUE(b.ok);
  TempDir tmp("bert-ft");
  write_text(tmp.path("ft.yaml"), finetune_yaml(b, "finetune: {strategy: full}\n"));
  const std::string run = tmp.path("ft");
  auto r = run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", b.pre, "--out", run, "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_NE(r.err.find("new head: 3 classes (Apache-2.0, GPL-3, MPL-2.0) replace the checkpoint's bert output head"),
            std::string::npos)
      << r.err;
  const auto e = last_eval(run);
  // Always answering GPL-3 (the majority) scores 21/39 = 0.54 and macro-F1 0.23.
  EXPECT_GT(e["val_accuracy"].get<double>(), 0.6) << e.dump();
  EXPECT_GT(e["val_macro_f1"].get<double>(), 0.4) << e.dump();
  const auto cfg = read_json(run + "/checkpoints/best/config.json");
  EXPECT_EQ(cfg["architectures"][0], "BertForSequenceClassification");
  EXPECT_EQ(cfg["id2label"]["1"], "GPL-3");
  EXPECT_EQ(cfg["ptft"]["task"], "classification");

  // predict --text: labels from id2label, probabilities that sum to 1 over --top-k 3.
  auto p = run_ptft({"predict", "--model", run, "--text",
                     "This Source Code Form is subject to the terms of the Mozilla Public License",
                     "--text", "Licensed under the Apache License, Version 2.0", "--top-k", "3", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.text();
  const auto preds = nlohmann::json::parse(p.out)["predictions"];
  ASSERT_EQ(preds.size(), 2u);
  double sum = 0;
  for (const auto& t : preds[0]["top"]) sum += t["probability"].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-4);
  EXPECT_EQ(preds[0]["text"], "This Source Code Form is subject to the terms of the Mozilla Public License");

  // eval on the labelled JSONL gives the trainer's last validation accuracy of that checkpoint,
  // up to one borderline example of the 39: training evaluates under the run's precision (bf16
  // autocast on CPUs with avx512_bf16), `ptft eval` in fp32.
  auto ev = run_ptft({"eval", "--model", run + "/checkpoints/last", "--data", b.val, "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.text();
  const auto m = nlohmann::json::parse(ev.out);
  EXPECT_NEAR(m["accuracy"].get<double>(), e["val_accuracy"].get<double>(), 1.0 / 39 + 1e-9);
  EXPECT_NEAR(m["loss"].get<double>(), e["val_loss"].get<double>(), 0.02);
  EXPECT_EQ(m["classes"], nlohmann::json({"Apache-2.0", "GPL-3", "MPL-2.0"}));
  auto table = run_ptft({"eval", "--model", run, "--data", b.val});
  EXPECT_EQ(table.exit_code, 0) << table.text();
  EXPECT_NE(table.out.find("macro-F1"), std::string::npos) << table.out;
}

TEST(BertE2E, EveryTransferStrategyTrainsWhatItShould) {
  const TinyBert& b = tiny_bert();
  ASSERT_TRUE(b.ok);
  TempDir tmp("bert-strategies");
  // C = 32, K = 3: the pooler (C*C + C) and the classifier (K*C + K).
  const int64_t head = 32 * 32 + 32 + 3 * 32 + 3;
  struct Case {
    const char* name;
    const char* finetune;
  };
  int64_t full = 0;
  for (const Case& c : {Case{"full", "{strategy: full, layer_lr_decay: 0.8}"}, Case{"head", "{strategy: head}"},
                        Case{"freeze", "{strategy: freeze, freeze_layers: 1}"},
                        Case{"lora", "{strategy: lora, lora: {r: 4, alpha: 8}}"}}) {
    const std::string run = tmp.path(c.name);
    write_text(tmp.path(std::string(c.name) + ".yaml"),
               finetune_yaml(b, std::string("finetune: ") + c.finetune + "\n") );
    auto r = run_ptft({"finetune", "--config", tmp.path(std::string(c.name) + ".yaml"), "--from", b.pre, "--out", run,
                       "--set", "train.steps=10", "--threads", "1", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.text();
    int64_t trainable = -1, total = -1;
    for (const auto& e : read_jsonl(run + "/metrics.jsonl"))
      if (e.value("event", "") == "start") {
        trainable = e["trainable_parameters"].get<int64_t>();
        total = e["parameters"].get<int64_t>();
      }
    if (std::string(c.name) == "full") {
      full = trainable;
      EXPECT_EQ(trainable, total);
    } else if (std::string(c.name) == "head") {
      EXPECT_EQ(trainable, head);
    } else if (std::string(c.name) == "freeze") {
      EXPECT_LT(trainable, full);
      EXPECT_GT(trainable, head);
    } else {
      // LoRA r=4 per block on attention.self.query, .key, .value and attention.output.dense (32->32),
      // intermediate.dense (32->64), output.dense (64->32), + the head.
      const int64_t lora = 2 * 4 * (4 * (32 + 32) + (32 + 64) + (64 + 32));
      EXPECT_EQ(trainable, lora + head);
      const auto ac = read_json(run + "/checkpoints/last/adapter_config.json");
      EXPECT_EQ(ac["task_type"], "SEQ_CLS");
      EXPECT_EQ(ac["modules_to_save"], nlohmann::json({"bert.pooler.dense", "classifier"}));
      // PEFT's suffixes for exactly the adapted modules ("dense" would take in the pooler too).
      EXPECT_EQ(ac["target_modules"], nlohmann::json({"query", "key", "value", "output.dense", "intermediate.dense"}));
      // The adapter file carries the adapters and the trained head, equal to the checkpoint's.
      const auto ad = read_tensors(run + "/checkpoints/last/adapter_model.safetensors");
      const auto full = read_tensors(run + "/checkpoints/last/model.safetensors");
      ASSERT_TRUE(ad.count("base_model.model.classifier.weight"));
      EXPECT_TRUE(ad.at("base_model.model.classifier.weight") == full.at("classifier.weight"));
      EXPECT_TRUE(ad.count("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"));
      EXPECT_TRUE(ad.count("base_model.model.bert.encoder.layer.1.output.dense.lora_B.weight"));
    }
  }
}

TEST(BertE2E, ExportsToHuggingFaceAndFineTunesFromThere) {
  const TinyBert& b = tiny_bert();
  ASSERT_TRUE(b.ok);
  TempDir tmp("bert-hf");
  write_text(tmp.path("ft.yaml"), finetune_yaml(b, ""));
  ASSERT_EQ(run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", b.pre, "--out", tmp.path("ft"),
                      "--set", "train.steps=20", "--threads", "1", "--quiet"})
                .exit_code,
            0);
  auto x = run_ptft({"export", "--model", tmp.path("ft"), "--format", "hf", "--out", tmp.path("hf")});
  ASSERT_EQ(x.exit_code, 0) << x.text();
  const auto cfg = read_json(tmp.path("hf/config.json"));
  EXPECT_EQ(cfg["architectures"][0], "BertForSequenceClassification");
  EXPECT_FALSE(cfg.contains("ptft"));
  EXPECT_TRUE(sfs::exists(tmp.path("hf/model.safetensors")));
  const auto w = read_tensors(tmp.path("hf/model.safetensors"));
  EXPECT_TRUE(w.count("bert.encoder.layer.1.attention.self.query.weight"));
  EXPECT_TRUE(w.count("classifier.weight"));
  // The SentencePiece vocabulary is not BertTokenizer's: kept in ptft's form, and written as the
  // tokenizer.json it equals (AutoTokenizer loads it): both give the same ids.
  EXPECT_TRUE(sfs::exists(tmp.path("hf/ptft_tokenizer/tokenizer_config.json")));
  ASSERT_TRUE(sfs::exists(tmp.path("hf/tokenizer.json")));
  EXPECT_EQ(read_json(tmp.path("hf/tokenizer_config.json"))["tokenizer_class"], "PreTrainedTokenizerFast");
  const std::string text = "Licensed under the Apache License, Version 2.0 (the \"License\")";
  sfs::create_directories(tmp.path("hf-json"));
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    sfs::copy_file(tmp.path("hf/") + f, tmp.path("hf-json/") + f);
  auto via_json = run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("hf-json"), text});
  auto via_ptft = run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("hf/ptft_tokenizer"), text});
  ASSERT_EQ(via_json.exit_code, 0) << via_json.text();
  EXPECT_EQ(via_json.out, via_ptft.out);
  // Same metrics from the HF directory as from the checkpoint.
  auto a = run_ptft({"eval", "--model", tmp.path("ft"), "--data", b.val, "--json"});
  auto h = run_ptft({"eval", "--model", tmp.path("hf"), "--data", b.val, "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.text();
  ASSERT_EQ(h.exit_code, 0) << h.text();
  EXPECT_NEAR(nlohmann::json::parse(a.out)["loss"].get<double>(), nlohmann::json::parse(h.out)["loss"].get<double>(), 1e-5);
  // And the MLM checkpoint, exported, fine-tunes as a Hugging Face BERT.
  ASSERT_EQ(run_ptft({"export", "--model", b.pre, "--format", "hf", "--out", tmp.path("hf-mlm")}).exit_code, 0);
  EXPECT_EQ(read_json(tmp.path("hf-mlm/config.json"))["architectures"][0], "BertForMaskedLM");
  auto f = run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", tmp.path("hf-mlm"), "--out", tmp.path("ft-hf"),
                     "--set", "train.steps=5", "--set", "data.tokenizer=" + b.tok, "--threads", "1", "--quiet"});
  EXPECT_EQ(f.exit_code, 0) << f.text();
}

TEST(BertE2E, UserErrorsNameTheProblem) {
  const TinyBert& b = tiny_bert();
  ASSERT_TRUE(b.ok);
  TempDir tmp("bert-errors");
  // Scratch training on JSONL without any tokenizer.
  write_text(tmp.path("scratch.yaml"), std::string(kModel) + finetune_yaml(b, ""));
  auto r = run_ptft({"pretrain", "--config", tmp.path("scratch.yaml"), "--out", tmp.path("s"), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("tokenizer"), std::string::npos) << r.err;
  // ... works with data.tokenizer.
  r = run_ptft({"pretrain", "--config", tmp.path("scratch.yaml"), "--out", tmp.path("s2"), "--set",
                "data.tokenizer=" + b.tok, "--set", "train.steps=4", "--quiet", "--threads", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.text();
  // A val label the training data does not have.
  write_text(tmp.path("bad-val.jsonl"), "{\"text\": \"some text here\", \"label\": \"GPL-3\"}\n{\"text\": \"x\", \"label\": \"BSD\"}\n");
  r = run_ptft({"finetune", "--config", tmp.path("scratch.yaml"), "--from", b.pre, "--out", tmp.path("v"), "--set",
                "data.val=" + tmp.path("bad-val.jsonl"), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("bad-val.jsonl:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("BSD"), std::string::npos) << r.err;
  // predict --text on a masked LM, eval of a masked LM on a text file.
  r = run_ptft({"predict", "--model", b.pre, "--text", "hello"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("not a text classifier"), std::string::npos) << r.err;
  // A text classifier evaluated on something that is not labelled JSONL.
  write_text(tmp.path("ft.yaml"), finetune_yaml(b, ""));
  ASSERT_EQ(run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", b.pre, "--out", tmp.path("c"), "--set",
                      "train.steps=2", "--quiet", "--threads", "1"})
                .exit_code,
            0);
  r = run_ptft({"eval", "--model", tmp.path("c"), "--data", b.shards});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("is not labelled JSONL"), std::string::npos) << r.err;
  // An explicit language-model task on labelled data.
  r = run_ptft({"finetune", "--config", tmp.path("scratch.yaml"), "--from", b.pre, "--out", tmp.path("m"), "--set",
                "task=masked_lm", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("task masked_lm cannot train on"), std::string::npos) << r.err;
  // A typo in the new data key.
  r = run_ptft({"pretrain", "--config", tmp.path("scratch.yaml"), "--out", tmp.path("t"), "--set",
                "data.mlm_probabilty=0.2", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("mlm_probability"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace e2e
