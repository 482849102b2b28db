// Tests for ptft/io/checkpoint.h: the checkpoint directory (write/read round trip, atomic
// creation, errors naming the broken file) and CheckpointSet (last/best links, temporaries,
// pruning).
#include "ptft/io/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

using test::TempDir;

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.config = {{"model_type", "mlp"}, {"hidden", {8, 4}}, {"ptft", {{"family", "mlp"}, {"task", "classification"}}}};
  auto gen = at::detail::createCPUGenerator(1);
  c.model["layers.0.weight"] = torch::randn({8, 2}, gen);
  c.model["layers.0.bias"] = torch::randn({8}, gen);
  c.model["head.weight"] = torch::randn({3, 8}, gen).to(torch::kBFloat16);
  c.optimizer["head.weight.exp_avg"] = torch::randn({3, 8}, gen);
  c.optimizer["head.weight.step"] = torch::tensor(int64_t{12});
  c.trainer_state = {{"step", 12}, {"best_metric", 0.25}, {"rng", {{"torch_cpu", "AAEC"}}}};
  return c;
}

void expect_same_tensors(const TensorMap& a, const TensorMap& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    EXPECT_EQ(v.scalar_type(), b.at(k).scalar_type()) << k;
    EXPECT_TRUE(torch::equal(v, b.at(k))) << k;
  }
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : sfs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// Message of the UserError `fn` throws ("" and a test failure if it throws nothing else).
template <class Fn>
std::string user_error(Fn fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.message();
  }
  ADD_FAILURE() << "expected UserError";
  return "";
}

TEST(Checkpoint, WriteReadRoundTrip) {
  TempDir tmp("roundtrip");
  const std::string dir = tmp.path + "/ckpt";
  Checkpoint c = sample_checkpoint();
  write_checkpoint(dir, c);
  EXPECT_EQ(entries(dir), (std::set<std::string>{"config.json", "model.safetensors", "optimizer.safetensors",
                                                 "trainer_state.json"}));
  EXPECT_TRUE(is_checkpoint_dir(dir));
  Checkpoint r = read_ptft_checkpoint(dir);
  EXPECT_EQ(r.dir, dir);
  EXPECT_EQ(r.config, c.config);
  EXPECT_EQ(r.trainer_state, c.trainer_state);
  expect_same_tensors(c.model, r.model);
  expect_same_tensors(c.optimizer, r.optimizer);
  EXPECT_EQ(entries(tmp.path), std::set<std::string>{"ckpt"});  // no temporary left beside it

  Checkpoint w = read_ptft_checkpoint(dir, /*with_training_state=*/false);
  expect_same_tensors(c.model, w.model);
  EXPECT_TRUE(w.optimizer.empty());
  EXPECT_TRUE(w.trainer_state.is_null());
}

TEST(Checkpoint, WeightsOnlyCheckpointHasNoTrainingFiles) {
  TempDir tmp("weights");
  Checkpoint c = sample_checkpoint();
  c.optimizer.clear();
  c.trainer_state = nullptr;
  write_checkpoint(tmp.path + "/w", c);
  EXPECT_EQ(entries(tmp.path + "/w"), (std::set<std::string>{"config.json", "model.safetensors"}));
  Checkpoint r = read_ptft_checkpoint(tmp.path + "/w");
  EXPECT_TRUE(r.optimizer.empty());
  EXPECT_TRUE(r.trainer_state.is_null());
}

TEST(Checkpoint, WriteIntoExistingDirFailsAndLeavesItIntact) {
  TempDir tmp("exists");
  const std::string dir = tmp.path + "/ckpt";
  write_checkpoint(dir, sample_checkpoint());
  const std::string before = read_bytes(dir + "/model.safetensors");
  Checkpoint other = sample_checkpoint();
  other.model["layers.0.bias"] = torch::zeros({8});
  EXPECT_THROW(write_checkpoint(dir, other), Error);
  EXPECT_EQ(read_bytes(dir + "/model.safetensors"), before);
  EXPECT_EQ(entries(tmp.path), std::set<std::string>{"ckpt"});  // the temporary was removed
}

TEST(Checkpoint, ReadMissingDirectory) {
  TempDir tmp("missing");
  auto msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/nope"); });
  EXPECT_NE(msg.find(tmp.path + "/nope"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  write_bytes(tmp.path + "/file", "x");
  msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/file"); });
  EXPECT_NE(msg.find("is not a directory"), std::string::npos) << msg;
}

TEST(Checkpoint, ReadMissingModelFileNamesIt) {
  TempDir tmp("nomodel");
  write_checkpoint(tmp.path + "/c", sample_checkpoint());
  sfs::remove(tmp.path + "/c/model.safetensors");
  EXPECT_FALSE(is_checkpoint_dir(tmp.path + "/c"));
  auto msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/c"); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

TEST(Checkpoint, ReadMissingConfigNamesIt) {
  TempDir tmp("noconfig");
  write_checkpoint(tmp.path + "/c", sample_checkpoint());
  sfs::remove(tmp.path + "/c/config.json");
  auto msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/c"); });
  EXPECT_NE(msg.find(tmp.path + "/c/config.json"), std::string::npos) << msg;
}

TEST(Checkpoint, ReadCorruptConfigNamesIt) {
  TempDir tmp("badconfig");
  write_checkpoint(tmp.path + "/c", sample_checkpoint());
  write_bytes(tmp.path + "/c/config.json", "{\"model_type\": \"mlp\",");
  auto msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/c"); });
  EXPECT_NE(msg.find(tmp.path + "/c/config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
}

TEST(Checkpoint, ReadTruncatedModelNamesIt) {
  TempDir tmp("truncated");
  write_checkpoint(tmp.path + "/c", sample_checkpoint());
  const std::string path = tmp.path + "/c/model.safetensors";
  sfs::resize_file(path, sfs::file_size(path) - 10);
  auto msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/c"); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("loading checkpoint weights"), std::string::npos) << msg;
}

TEST(Checkpoint, ReadTruncatedOptimizerAndCorruptTrainerStateNameThem) {
  TempDir tmp("badstate");
  write_checkpoint(tmp.path + "/c", sample_checkpoint());
  const std::string opt = tmp.path + "/c/optimizer.safetensors";
  sfs::resize_file(opt, 6);
  auto msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/c"); });
  EXPECT_NE(msg.find(opt), std::string::npos) << msg;
  // Without the training state the broken optimizer file is not read at all.
  EXPECT_NO_THROW(read_ptft_checkpoint(tmp.path + "/c", /*with_training_state=*/false));

  write_checkpoint(tmp.path + "/d", sample_checkpoint());
  write_bytes(tmp.path + "/d/trainer_state.json", "{\"step\": ");
  msg = user_error([&] { read_ptft_checkpoint(tmp.path + "/d"); });
  EXPECT_NE(msg.find(tmp.path + "/d/trainer_state.json"), std::string::npos) << msg;
}

// Fill function writing `c`, counting its calls.
struct Filler {
  Checkpoint c = sample_checkpoint();
  int calls = 0;
  std::function<void(const std::string&)> fn() {
    return [this](const std::string& dir) {
      ++calls;
      write_checkpoint_files(dir, c);
    };
  }
};

TEST(CheckpointSet, ConstructorRemovesTemporaries) {
  TempDir tmp("tmpclean");
  const std::string root = tmp.path + "/checkpoints";
  sfs::create_directories(root + "/step-00000005.tmp-123-0");  // a writer killed mid-checkpoint
  write_bytes(root + "/step-00000005.tmp-123-0/model.safetensors", "partial");
  write_bytes(root + "/last.tmp-123-1", "");                    // a half-made link
  Filler f;
  write_checkpoint(root + "/step-00000003", f.c);               // a complete one stays
  CheckpointSet set(root, 3);
  EXPECT_EQ(entries(root), std::set<std::string>{"step-00000003"});
}

TEST(CheckpointSet, ConstructorCreatesRoot) {
  TempDir tmp("mkroot");
  CheckpointSet set(tmp.path + "/a/b/checkpoints", 3);
  EXPECT_TRUE(sfs::is_directory(tmp.path + "/a/b/checkpoints"));
  EXPECT_FALSE(set.last_dir().has_value());
  EXPECT_FALSE(set.best_dir().has_value());
}

TEST(CheckpointSet, SaveThenLastDirAndMarkBest) {
  TempDir tmp("set");
  CheckpointSet set(tmp.path + "/checkpoints", 0);
  Filler f;
  const std::string d = set.save(7, f.fn());
  EXPECT_EQ(d, tmp.path + "/checkpoints/step-00000007");
  EXPECT_EQ(set.step_dir(7), d);
  ASSERT_TRUE(set.last_dir().has_value());
  EXPECT_EQ(*set.last_dir(), tmp.path + "/checkpoints/last");
  EXPECT_EQ(sfs::read_symlink(*set.last_dir()).string(), "step-00000007");  // relative: the run dir can move
  EXPECT_EQ(read_ptft_checkpoint(*set.last_dir()).trainer_state, f.c.trainer_state);
  EXPECT_FALSE(set.best_dir().has_value());

  set.save(9, f.fn());
  EXPECT_EQ(sfs::read_symlink(tmp.path + "/checkpoints/last").string(), "step-00000009");
  set.mark_best(7);
  ASSERT_TRUE(set.best_dir().has_value());
  EXPECT_EQ(sfs::read_symlink(*set.best_dir()).string(), "step-00000007");
  EXPECT_THROW(set.mark_best(8), InternalError);  // no such step

  // Saving a step that exists does not rewrite it, only points `last` at it.
  EXPECT_EQ(f.calls, 2);
  set.save(7, f.fn());
  EXPECT_EQ(f.calls, 2);
  EXPECT_EQ(sfs::read_symlink(tmp.path + "/checkpoints/last").string(), "step-00000007");
  EXPECT_EQ(entries(tmp.path + "/checkpoints"),
            (std::set<std::string>{"step-00000007", "step-00000009", "last", "best"}));
}

TEST(CheckpointSet, FailedFillLeavesNothingAndLastUnchanged) {
  TempDir tmp("failfill");
  CheckpointSet set(tmp.path + "/checkpoints", 3);
  Filler f;
  set.save(1, f.fn());
  EXPECT_THROW(set.save(2, [](const std::string& dir) {
    write_checkpoint_files(dir, sample_checkpoint());
    throw UserError("disk full");
  }), UserError);
  EXPECT_EQ(entries(tmp.path + "/checkpoints"), (std::set<std::string>{"step-00000001", "last"}));
  EXPECT_EQ(sfs::read_symlink(tmp.path + "/checkpoints/last").string(), "step-00000001");
}

TEST(CheckpointSet, PruneKeepsNewestAndNeverBestOrLast) {
  TempDir tmp("prune");
  const std::string root = tmp.path + "/checkpoints";
  CheckpointSet set(root, 2);
  Filler f;
  set.save(1, f.fn());
  set.save(2, f.fn());
  set.mark_best(2);
  for (int64_t s = 3; s <= 5; ++s) set.save(s, f.fn());
  // 5 saves, keep 2: the best (2) survives although older than 3 and 4; `last` is 5.
  EXPECT_EQ(entries(root), (std::set<std::string>{"step-00000002", "step-00000005", "last", "best"}));
  ASSERT_TRUE(set.best_dir() && set.last_dir());

  CheckpointSet all(tmp.path + "/all", 0);  // keep <= 0: nothing is pruned
  for (int64_t s = 1; s <= 4; ++s) all.save(s, f.fn());
  EXPECT_EQ(entries(tmp.path + "/all").size(), 5u);
}

}  // namespace
}  // namespace ptft
