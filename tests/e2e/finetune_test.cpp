// End-to-end: `ptft finetune --from CKPT` starts from a pre-trained checkpoint: weights loaded,
// provenance recorded, frozen parameters untouched; bad checkpoints are user errors naming the
// file.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

// One short pre-training run, shared by the tests of this process.
struct Source {
  e2e::TempDir dir{"finetune-source"};
  std::string run = dir.path("pre");
  std::string best = run + "/checkpoints/best";
  e2e::TensorBytesMap weights;  // of best
};
const Source& source() {
  static Source* src = [] {
    auto* s = new Source;
    auto r = e2e::run_ptft(e2e::spirals_args("pretrain", s->run, {"train.steps=100"}));
    if (r.exit_code != 0) {
      ADD_FAILURE() << "pre-training the source checkpoint failed: " << r.text();
      return s;
    }
    s->weights = e2e::read_tensors(s->best + "/model.safetensors");
    return s;
  }();
  static const std::unique_ptr<Source> cleanup(src);
  return *src;
}

std::vector<std::string> finetune_args(const std::string& from, const std::string& out,
                                       std::vector<std::string> sets = {}) {
  sets.insert(sets.begin(), "train.steps=50");
  return e2e::concat(e2e::spirals_args("finetune", out, sets), {"--from", from});
}

// A copy of the source's best checkpoint (a real directory) that a test may damage.
std::string copy_of_best(const e2e::TempDir& tmp) {
  const std::string dst = tmp.path("ckpt-copy");
  sfs::copy(sfs::canonical(source().best), dst, sfs::copy_options::recursive);
  return dst;
}

TEST(FinetuneE2E, TrainsFromTheCheckpointAndRecordsIt) {
  const Source& src = source();
  ASSERT_FALSE(src.weights.empty());
  e2e::TempDir tmp;
  const std::string ft = tmp.path("ft");
  auto r = e2e::run_ptft(finetune_args(src.best, ft));
  ASSERT_EQ(r.exit_code, 0) << r.text();

  ASSERT_TRUE(e2e::complete_checkpoint(ft + "/checkpoints/last"));
  auto config = e2e::read_json(ft + "/checkpoints/last/config.json");
  EXPECT_EQ(config["ptft"]["finetuned_from"], src.best);
  EXPECT_EQ(config["ptft"]["family"], "mlp");
  EXPECT_EQ(e2e::read_json(ft + "/checkpoints/last/trainer_state.json")["step"], 50);
  auto summary = e2e::read_json(ft + "/summary.json");
  EXPECT_EQ(summary["command"], "finetune");
  EXPECT_EQ(summary["steps"], 50);
  auto events = e2e::read_jsonl(ft + "/metrics.jsonl");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["command"], "finetune");
  EXPECT_TRUE(contains(e2e::read_text(ft + "/config.yaml"), src.best)) << "finetune.from is not in config.yaml";
  // It trained: every tensor moved.
  auto after = e2e::read_tensors(ft + "/checkpoints/last/model.safetensors");
  ASSERT_EQ(after.size(), src.weights.size());
  for (const auto& [name, t] : after) EXPECT_NE(t, src.weights.at(name)) << name;
}

TEST(FinetuneE2E, FrozenParametersStayIdentical) {
  const Source& src = source();
  ASSERT_FALSE(src.weights.empty());
  e2e::TempDir tmp;
  const std::string ft = tmp.path("ft");
  auto r = e2e::run_ptft(finetune_args(src.best, ft, {"finetune.freeze=[layers.0.*]"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();

  // Frozen tensors equal the checkpoint's: so the weights were loaded from it, not initialised.
  auto after = e2e::read_tensors(ft + "/checkpoints/last/model.safetensors");
  ASSERT_EQ(after.size(), src.weights.size());
  for (const auto& [name, t] : after) {
    if (name.rfind("layers.0.", 0) == 0) EXPECT_EQ(t, src.weights.at(name)) << name << " is frozen but changed";
    else EXPECT_NE(t, src.weights.at(name)) << name << " trains but did not change";
  }
  // The optimizer only sees trainable parameters.
  const auto start = e2e::read_jsonl(ft + "/metrics.jsonl").front();
  const int64_t frozen = 2 * 64 + 64;  // layers.0: Linear(2, 64)
  EXPECT_EQ(start["trainable_parameters"].get<int64_t>(), start["parameters"].get<int64_t>() - frozen);
  for (const auto& [name, t] : e2e::read_tensors(ft + "/checkpoints/last/optimizer.safetensors"))
    EXPECT_FALSE(contains(name, "layers.0.")) << "optimizer state for frozen " << name;
}

TEST(FinetuneE2E, FreezePatternMatchingNothingIsNamed) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(finetune_args(source().best, tmp.path("ft"), {"finetune.freeze=[encoder.*]"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "'encoder.*' matches no parameter")) << r.err;
  EXPECT_TRUE(contains(r.err, "--set finetune.freeze=[encoder.*]")) << r.err;
  EXPECT_TRUE(contains(r.err, "layers.0.weight")) << "the hint shows real parameter names:\n" << r.err;
}

TEST(FinetuneE2E, MissingFromDirectoryIsNamed) {
  e2e::TempDir tmp;
  const std::string missing = tmp.path("no-such-checkpoint");
  auto r = e2e::run_ptft(finetune_args(missing, tmp.path("ft")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "checkpoint '" + missing + "' does not exist")) << r.err;
}

TEST(FinetuneE2E, FromIsRequired) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::spirals_args("finetune", tmp.path("ft"), {"train.steps=5"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err + r.out, "--from")) << r.text();
}

TEST(FinetuneE2E, CorruptWeightsAreNamed) {
  e2e::TempDir tmp;
  const std::string ckpt = copy_of_best(tmp);
  e2e::truncate_half(ckpt + "/model.safetensors");
  auto r = e2e::run_ptft(finetune_args(ckpt, tmp.path("ft")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, ckpt + "/model.safetensors")) << r.err;
  EXPECT_FALSE(contains(r.err, "internal error")) << r.err;
}

TEST(FinetuneE2E, MissingWeightsAreNamed) {
  e2e::TempDir tmp;
  const std::string ckpt = copy_of_best(tmp);
  sfs::remove(ckpt + "/model.safetensors");
  auto r = e2e::run_ptft(finetune_args(ckpt, tmp.path("ft")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, ckpt)) << r.err;
  EXPECT_TRUE(contains(r.err, "model.safetensors")) << r.err;
}

TEST(FinetuneE2E, InvalidConfigJsonIsNamed) {
  e2e::TempDir tmp;
  const std::string ckpt = copy_of_best(tmp);
  e2e::write_text(ckpt + "/config.json", "{\"model_type\": \"mlp\", ");
  auto r = e2e::run_ptft(finetune_args(ckpt, tmp.path("ft")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, ckpt + "/config.json")) << r.err;
  EXPECT_TRUE(contains(r.err, "not valid JSON")) << r.err;
}

TEST(FinetuneE2E, ConfigJsonMissingFieldsIsAUserError) {
  e2e::TempDir tmp;
  const std::string ckpt = copy_of_best(tmp);
  e2e::write_text(ckpt + "/config.json", R"({"model_type": "mlp", "ptft": {"family": "mlp"}})");
  auto r = e2e::run_ptft(finetune_args(ckpt, tmp.path("ft")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, ckpt + "/config.json")) << r.err;
}

TEST(FinetuneE2E, ModelFamilyMismatchIsNamed) {
  // A checkpoint whose config.json names another family than the run config's model section.
  e2e::TempDir tmp;
  const std::string ckpt = copy_of_best(tmp);
  auto r = e2e::run_ptft(finetune_args(ckpt, tmp.path("ft"), {"model.family=gpt"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "model.family")) << r.err;
}

}  // namespace
