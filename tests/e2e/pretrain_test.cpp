// End-to-end: `ptft pretrain` on configs/mlp-spirals.yaml — the run directory it writes (results.csv
// included), that
// its resolved config.yaml reproduces the run bit for bit, and the user errors (exit status 1,
// a message naming the file/key/value and the fix).
#include <gtest/gtest.h>

#include <sstream>

#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

// A config value that the start event may carry as a number or as its YAML text.
int64_t as_int(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) return std::stoll(v.get<std::string>());
  ADD_FAILURE() << "not an integer: " << v.dump();
  return -1;
}

// A config file's text from its sections (an empty one is left out).
std::string small_config(const std::string& model, const std::string& data, const std::string& train) {
  std::string s = "# written by pretrain_test\n";
  if (!model.empty()) s += model + "\n";
  if (!data.empty()) s += data + "\n";
  if (!train.empty()) s += train + "\n";
  return s;
}
const char* kModel = "model: {family: mlp, in_features: 2, hidden: [8], num_classes: 3}";
const char* kData = "data: {train: \"synthetic:spirals?classes=3&n=256\"}";

bool has_cuda() {
  auto r = e2e::run_ptft({"env", "--json"});
  if (r.exit_code != 0) return false;
  return nlohmann::json::parse(r.out)["cuda"]["devices"].get<int>() > 0;
}

TEST(PretrainE2E, WritesTheRunDirectoryAndLearns) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", run, {"train.steps=300"}, /*quiet=*/false));
  ASSERT_EQ(r.exit_code, 0) << r.text();

  // The start of every run says what it runs on; the end says where the best checkpoint is.
  EXPECT_TRUE(contains(r.err, "BLAS:")) << r.err;
  EXPECT_TRUE(contains(r.err, "threads:")) << r.err;
  EXPECT_TRUE(contains(r.err, "device: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "run directory: " + run)) << r.err;
  EXPECT_TRUE(contains(r.err, "done: 300 steps")) << r.err;
  EXPECT_TRUE(contains(r.err, run + "/checkpoints/best")) << r.err;

  // config.yaml: the resolved config, with the override applied.
  ASSERT_TRUE(sfs::is_regular_file(run + "/config.yaml"));
  const std::string yaml = e2e::read_text(run + "/config.yaml");
  EXPECT_TRUE(contains(yaml, "steps: 300")) << yaml;
  EXPECT_TRUE(contains(yaml, "family: mlp")) << yaml;

  // metrics.jsonl: start (env + config), train, eval, best, end.
  auto events = e2e::read_jsonl(run + "/metrics.jsonl");
  ASSERT_FALSE(events.empty());
  std::map<std::string, int> count;
  for (const auto& e : events) {
    ASSERT_TRUE(e.contains("event")) << e.dump();
    count[e["event"].get<std::string>()]++;
  }
  EXPECT_EQ(events.front()["event"], "start");
  EXPECT_EQ(events.back()["event"], "end");
  EXPECT_EQ(count["start"], 1);
  EXPECT_EQ(count["end"], 1);
  EXPECT_EQ(count["train"], 30);  // log_every 10
  EXPECT_EQ(count["eval"], 3);    // eval_every 100
  EXPECT_GE(count["best"], 1);
  const auto& start = events.front();
  ASSERT_TRUE(start.contains("env"));
  EXPECT_TRUE(start["env"].contains("blas"));
  ASSERT_TRUE(start.contains("config"));
  EXPECT_EQ(as_int(start["config"]["train"]["steps"]), 300);
  EXPECT_EQ(start["command"], "pretrain");
  EXPECT_GT(start["parameters"].get<int64_t>(), 0);
  for (const auto& e : events) {
    if (e["event"] != "train") continue;
    ASSERT_TRUE(e["loss"].is_number()) << e.dump();
    EXPECT_TRUE(std::isfinite(e["loss"].get<double>())) << e.dump();
  }

  // summary.json: 300 steps, not interrupted, and the MLP learned (3 classes: chance is 0.33).
  auto summary = e2e::read_json(run + "/summary.json");
  EXPECT_EQ(summary["steps"], 300);
  EXPECT_EQ(summary["interrupted"], false);
  EXPECT_EQ(summary["metric"], "val_accuracy");
  ASSERT_TRUE(summary["last_eval"].contains("val_accuracy")) << summary.dump(2);
  EXPECT_GT(summary["last_eval"]["val_accuracy"].get<double>(), 0.6) << summary.dump(2);
  EXPECT_GE(summary["best_metric"].get<double>(), summary["last_eval"]["val_accuracy"].get<double>());
  EXPECT_EQ(events.back()["summary"], summary);

  // checkpoints/{last,best}: links into complete step-* directories.
  const std::string ck = run + "/checkpoints";
  for (const char* link : {"last", "best"}) {
    SCOPED_TRACE(link);
    ASSERT_TRUE(sfs::is_symlink(ck + "/" + link));
    const std::string target = sfs::read_symlink(ck + "/" + link).filename().string();
    EXPECT_EQ(target.rfind("step-", 0), 0u) << target;
    EXPECT_TRUE(sfs::is_directory(ck + "/" + target));
    EXPECT_TRUE(e2e::complete_checkpoint(ck + "/" + link));
  }
  EXPECT_EQ(sfs::read_symlink(ck + "/last").filename().string(), "step-00000300");
  auto state = e2e::read_json(ck + "/last/trainer_state.json");
  EXPECT_EQ(state["step"], 300);
  auto best_state = e2e::read_json(ck + "/best/trainer_state.json");
  EXPECT_EQ(best_state["step"], summary["best_step"]);
  auto config = e2e::read_json(ck + "/last/config.json");
  EXPECT_EQ(config["ptft"]["family"], "mlp");
  EXPECT_EQ(config["ptft"]["task"], "classification");
  EXPECT_FALSE(config["ptft"].contains("finetuned_from"));
  auto weights = e2e::read_tensors(ck + "/last/model.safetensors");
  for (const char* name : {"layers.0.weight", "layers.0.bias", "layers.1.weight", "head.weight", "head.bias"})
    EXPECT_TRUE(weights.count(name)) << name;
  EXPECT_EQ(weights.at("head.weight").shape, (std::vector<int64_t>{3, 64}));

  // keep_checkpoints 3: at most three step directories (plus the one best points to); no temporaries.
  auto steps = e2e::entries_with_prefix(ck, "step-");
  EXPECT_LE(steps.size(), 4u);
  for (const auto& s : steps) EXPECT_FALSE(contains(s, ".tmp-")) << s;

  // results.csv: one row per evaluation, Ultralytics-style columns; the confusion matrix left out.
  std::vector<std::string> rows;
  {
    std::istringstream in(e2e::read_text(run + "/results.csv"));
    for (std::string l; std::getline(in, l);) rows.push_back(l);
  }
  ASSERT_EQ(rows.size(), 1u + count["eval"]) << e2e::read_text(run + "/results.csv");
  EXPECT_EQ(rows[0].rfind("epoch,step,time,train/loss,val/loss,val/accuracy,", 0), 0u) << rows[0];
  EXPECT_TRUE(contains(rows[0], ",lr/pg0")) << rows[0];
  EXPECT_FALSE(contains(rows[0], "confusion")) << rows[0];
  // Step 200 of batch 64 over 4096 examples: epoch 3.125.
  EXPECT_EQ(rows[2].rfind("3.125,200,", 0), 0u) << rows[2];
}

TEST(PretrainE2E, ResolvedConfigReproducesTheRun) {
  e2e::TempDir tmp;
  const std::string a = tmp.path("a"), b = tmp.path("b");
  auto ra = e2e::run_ptft(e2e::spirals_args("pretrain", a, {"train.steps=120", "train.seed=7"}));
  ASSERT_EQ(ra.exit_code, 0) << ra.text();
  auto rb = e2e::run_ptft({"pretrain", "--config", a + "/config.yaml", "--out", b, "--quiet"});
  ASSERT_EQ(rb.exit_code, 0) << rb.text();

  EXPECT_EQ(e2e::read_text(a + "/config.yaml"), e2e::read_text(b + "/config.yaml"));
  for (const char* link : {"last", "best"}) {
    SCOPED_TRACE(link);
    EXPECT_EQ(sfs::read_symlink(a + "/checkpoints/" + link), sfs::read_symlink(b + "/checkpoints/" + link));
    EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(a + "/checkpoints/" + link + "/model.safetensors"),
                                  e2e::read_tensors(b + "/checkpoints/" + link + "/model.safetensors")));
  }
  EXPECT_EQ(e2e::read_json(a + "/summary.json")["best_metric"], e2e::read_json(b + "/summary.json")["best_metric"]);

  // And another seed gives other weights (the comparison above is not vacuous).
  const std::string c = tmp.path("c");
  auto rc = e2e::run_ptft(e2e::spirals_args("pretrain", c, {"train.steps=120", "train.seed=8"}));
  ASSERT_EQ(rc.exit_code, 0) << rc.text();
  EXPECT_FALSE(e2e::same_tensors(e2e::read_tensors(a + "/checkpoints/last/model.safetensors"),
                                 e2e::read_tensors(c + "/checkpoints/last/model.safetensors")));
}

TEST(PretrainE2E, UnknownTopLevelKeyNamesFileKeyAndSuggestion) {
  e2e::TempDir tmp;
  const std::string cfg = tmp.path("typo.yaml");
  e2e::write_text(cfg, small_config(kModel, kData, "trian: {steps: 5}"));
  auto r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("run"), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "error: ")) << r.err;
  EXPECT_TRUE(contains(r.err, cfg + ":4")) << r.err;  // file and line
  EXPECT_TRUE(contains(r.err, "unknown key 'trian'")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean 'train'")) << r.err;
  EXPECT_FALSE(sfs::exists(tmp.path("run"))) << "a config error must not create the run directory";
}

TEST(PretrainE2E, UnknownNestedKeyNamesFileKeyAndSuggestion) {
  e2e::TempDir tmp;
  const std::string cfg = tmp.path("typo.yaml");
  e2e::write_text(cfg, small_config(kModel, kData, "train: {stpes: 5}"));
  auto r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("run"), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, cfg)) << r.err;
  EXPECT_TRUE(contains(r.err, "unknown key 'train.stpes'")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean 'train.steps'")) << r.err;
  EXPECT_FALSE(sfs::exists(tmp.path("run")));
}

TEST(PretrainE2E, UnknownKeyInSetIsAnError) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("run"), {"train.lrr=0.1"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "--set train.lrr=0.1")) << r.err;
  EXPECT_TRUE(contains(r.err, "unknown key 'train.lrr'")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean 'train.lr'")) << r.err;
}

TEST(PretrainE2E, WrongTypeSaysInteger) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("run"), {"train.steps=abc"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "--set train.steps=abc")) << r.err;
  EXPECT_TRUE(contains(r.err, "'train.steps' must be an integer")) << r.err;
  EXPECT_TRUE(contains(r.err, "'abc'")) << r.err;
  EXPECT_FALSE(sfs::exists(tmp.path("run")));
}

TEST(PretrainE2E, MissingConfigFileIsNamed) {
  e2e::TempDir tmp;
  const std::string cfg = tmp.path("no-such-config.yaml");
  auto r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("run")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "config file '" + cfg + "' does not exist")) << r.err;
}

TEST(PretrainE2E, NoConfigAtAllSaysWhatToPass) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft({"pretrain", "--out", tmp.path("run")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "--config")) << r.err;
}

TEST(PretrainE2E, UnknownModelFamilyListsTheKnownOnes) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("run"), {"model.family=mpl"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "unknown model family 'mpl'")) << r.err;
  EXPECT_TRUE(contains(r.err, "--set model.family=mpl")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean 'mlp'")) << r.err;
  EXPECT_TRUE(contains(r.err, "known families:")) << r.err;
}

TEST(PretrainE2E, MissingTrainDataIsNamed) {
  e2e::TempDir tmp;
  const std::string cfg = tmp.path("nodata.yaml");
  e2e::write_text(cfg, small_config(kModel, "", "train: {steps: 5}"));
  auto r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("run"), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, cfg)) << r.err;
  EXPECT_TRUE(contains(r.err, "data.train is not set")) << r.err;
  EXPECT_TRUE(contains(r.err, "--set data.train=")) << r.err;
}

TEST(PretrainE2E, MissingDataPathIsNamed) {
  e2e::TempDir tmp;
  const std::string missing = tmp.path("no-such-data");
  auto r = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("run"), {"data.train=" + missing}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "data.train")) << r.err;
  EXPECT_TRUE(contains(r.err, missing)) << r.err;
}

TEST(PretrainE2E, ExistingRunDirectoryNeedsResume) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  auto first = e2e::run_ptft(e2e::spirals_args("pretrain", run, {"train.steps=20"}));
  ASSERT_EQ(first.exit_code, 0) << first.text();
  const auto tree = e2e::list_tree(run);
  const std::string metrics = e2e::read_text(run + "/metrics.jsonl");
  const auto weights = e2e::read_tensors(run + "/checkpoints/last/model.safetensors");

  auto again = e2e::run_ptft(e2e::spirals_args("pretrain", run, {"train.steps=20"}));
  EXPECT_EQ(again.exit_code, 1) << again.text();
  EXPECT_TRUE(contains(again.err, "'" + run + "' already holds a run")) << again.err;
  EXPECT_TRUE(contains(again.err, "--resume")) << again.err;
  // Nothing was touched.
  EXPECT_EQ(e2e::list_tree(run), tree);
  EXPECT_EQ(e2e::read_text(run + "/metrics.jsonl"), metrics);
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(run + "/checkpoints/last/model.safetensors"), weights));
}

TEST(PretrainE2E, CudaWithoutCudaIsAUserError) {
  if (has_cuda()) GTEST_SKIP() << "this machine has a CUDA device";
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", tmp.path("run"), {"train.steps=5"}),
                                {"--device", "cuda"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "device 'cuda' requested but no CUDA device is available")) << r.err;
  EXPECT_TRUE(contains(r.err, "--device cpu")) << r.err;
}

TEST(PretrainE2E, InvalidDeviceIsAUserError) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", tmp.path("run"), {"train.steps=5"}),
                                {"--device", "tpu"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "invalid device 'tpu'")) << r.err;
}

TEST(PretrainE2E, HelpConfigListsKeysWithDefaults) {
  auto r = e2e::run_ptft({"pretrain", "--help-config"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.out, "train.steps = 2000")) << r.out;
  EXPECT_TRUE(contains(r.out, "optimizer steps in the run")) << r.out;
  EXPECT_TRUE(contains(r.out, "train.batch_size = 16")) << r.out;
  EXPECT_TRUE(contains(r.out, "data.train")) << r.out;
  EXPECT_TRUE(contains(r.out, "finetune.freeze")) << r.out;
}

}  // namespace

namespace {

// bf16 autocast (fp32 master weights) trains as well as fp32 on this task; the run says so.
TEST(PretrainE2E, Bf16PrecisionTrainsAndIsRecorded) {
  e2e::TempDir tmp;
  auto r16 = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("bf16"),
                                             {"train.steps=300", "train.precision=bf16"}, false));
  ASSERT_EQ(r16.exit_code, 0) << r16.text();
  EXPECT_TRUE(contains(r16.err, "precision: bf16")) << r16.err;
  auto events = e2e::read_jsonl(tmp.path("bf16") + "/metrics.jsonl");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["precision"], "bf16");
  // Master weights stay fp32 in the checkpoint.
  auto tensors = e2e::read_tensors(tmp.path("bf16") + "/checkpoints/last/model.safetensors");
  for (const auto& [name, t] : tensors) EXPECT_EQ(t.dtype, "F32") << name;
  auto summary = nlohmann::json::parse(e2e::read_text(tmp.path("bf16") + "/summary.json"));
  EXPECT_GT(summary["last_eval"]["val_accuracy"].get<double>(), 0.6) << summary.dump();
}

TEST(PretrainE2E, UnknownPrecisionIsAUserError) {
  e2e::TempDir tmp;
  auto bad = e2e::run_ptft({"pretrain", "--config", std::string(PTFT_SOURCE_DIR) + "/configs/mlp-spirals.yaml",
                            "--out", tmp.path("bad"), "--precision", "fp16", "--quiet"});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_TRUE(contains(bad.err, "train.precision")) << bad.err;
  EXPECT_TRUE(contains(bad.err, "auto, fp32, bf16")) << bad.err;
}

}  // namespace
