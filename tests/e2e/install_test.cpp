// End-to-end: `cmake --install` of this build into a temporary prefix gives a `ptft` that works
// from any working directory: it finds the model presets installed beside it
// (PREFIX/share/ptft/configs/models), also after the prefix has moved and when it is started
// through PATH and a symlink.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

// The .yaml files of a directory, sorted.
std::vector<std::string> yaml_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : sfs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A GPT pre-training of `steps` steps on random tokens with model preset `preset`.
std::string gpt_run_config(const std::string& preset, int steps) {
  return "model: {family: gpt, preset: " + preset + "}\n"
         "data: {train: \"synthetic:tokens\"}\n"
         "train: {steps: " + std::to_string(steps) +
         ", batch_size: 2, warmup: 1, log_every: 1, eval_every: 0, save_every: 0, peak_tflops: 1.0}\n";
}

TEST(InstallE2E, InstalledBinaryFindsItsPresetsFromAnyDirectory) {
  e2e::TempDir tmp;
  const std::string prefix = tmp.path("prefix");
  auto inst = e2e::run_program(PTFT_CMAKE_COMMAND, {"--install", PTFT_BUILD_DIR, "--prefix", prefix}, tmp.root(),
                               std::chrono::seconds(300));
  ASSERT_EQ(inst.exit_code, 0) << inst.text();

  // The binary and every shipped config: run configs and model presets.
  const std::string bin = prefix + "/bin/ptft";
  const std::string share = prefix + "/share/ptft/configs";
  ASSERT_TRUE(sfs::is_regular_file(bin)) << e2e::list_tree(prefix).size() << " files installed";
  EXPECT_EQ(yaml_files(share), yaml_files(std::string(PTFT_SOURCE_DIR) + "/configs"));
  EXPECT_EQ(yaml_files(share + "/models"), yaml_files(std::string(PTFT_SOURCE_DIR) + "/configs/models"));

  // pretrain with a shipped preset, started by its absolute path from `/`.
  e2e::write_text(tmp.path("tiny.yaml"), gpt_run_config("gpt-tiny", 3));
  const std::string run = tmp.path("run");
  auto r = e2e::run_program(bin, {"pretrain", "--config", tmp.path("tiny.yaml"), "--out", run, "--threads", "1",
                                  "--quiet"},
                            "/");
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["steps"], 3);
  EXPECT_TRUE(e2e::complete_checkpoint(run + "/checkpoints/last"));
  const auto cfg = e2e::read_json(run + "/checkpoints/last/config.json");  // the preset's architecture
  EXPECT_EQ(cfg["n_embd"], 128);
  EXPECT_EQ(cfg["n_layer"], 4);
  EXPECT_EQ(cfg["vocab_size"], 8000);
  EXPECT_TRUE(contains(e2e::read_text(run + "/config.yaml"), "n_embd: 128"));

  // The prefix moved elsewhere, the binary started through PATH and a symlink in another
  // directory: a preset that only the installed directory holds proves that the installed
  // presets are the ones read (not the source tree's).
  const std::string moved = tmp.path("moved");
  sfs::rename(prefix, moved);
  const std::string bin_moved = moved + "/bin/ptft", share_moved = moved + "/share/ptft/configs";
  e2e::write_text(share_moved + "/models/install-probe.yaml",
                  "family: gpt\nvocab_size: 64\nn_positions: 16\nn_embd: 32\nn_layer: 1\nn_head: 2\n");
  sfs::create_directories(tmp.path("links"));
  sfs::create_symlink(bin_moved, tmp.path("links/ptft"));
  const e2e::Env path = {{"PATH", tmp.path("links") + ":/usr/bin:/bin"}};
  e2e::write_text(tmp.path("probe.yaml"), gpt_run_config("install-probe", 1));
  auto p = e2e::run_program("/bin/sh",
                            {"-c", "ptft pretrain --config " + tmp.path("probe.yaml") + " --out " + tmp.path("probe") +
                                       " --threads 1 --quiet"},
                            "/", std::chrono::seconds(120), path);
  ASSERT_EQ(p.exit_code, 0) << p.text();
  EXPECT_EQ(e2e::read_json(tmp.path("probe/checkpoints/last/config.json"))["n_embd"], 32);

  auto help = e2e::run_program("/bin/sh", {"-c", "ptft --help"}, "/", std::chrono::seconds(60), path);
  ASSERT_EQ(help.exit_code, 0) << help.text();
  EXPECT_TRUE(contains(help.out, "pretrain")) << help.out;
  auto env = e2e::run_program("/bin/sh", {"-c", "ptft env --json"}, "/", std::chrono::seconds(60), path);
  ASSERT_EQ(env.exit_code, 0) << env.text();
  EXPECT_TRUE(nlohmann::json::parse(env.out).contains("blas")) << env.out;

  // An unknown preset names the installed ones.
  e2e::write_text(tmp.path("typo.yaml"), gpt_run_config("gpt-tinyy", 1));
  auto typo = e2e::run_program(bin_moved, {"pretrain", "--config", tmp.path("typo.yaml"), "--out", tmp.path("typo")}, "/");
  EXPECT_EQ(typo.exit_code, 1) << typo.text();
  EXPECT_TRUE(contains(typo.err, "did you mean 'gpt-tiny'?")) << typo.err;
  EXPECT_TRUE(contains(typo.err, "install-probe")) << typo.err;
}

}  // namespace
