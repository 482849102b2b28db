#include "ptft/io/checkpoint.h"
#include "ptft/core/json_depth.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

nlohmann::json read_json(const std::string& path, const std::string& what) {
  std::string text = fs::read_file(path, what);
  require_json_depth(text, what + " '" + path + "'");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(what + " '" + path + "' is not valid JSON: " + e.what(),
                    "the file is corrupt; use another checkpoint (e.g. an earlier step-* directory)");
  }
}

}  // namespace

void write_checkpoint_files(const std::string& dir, const Checkpoint& c) {
  fs::write_file_atomic(dir + "/config.json", c.config.dump(2) + "\n");
  save_tensors(dir + "/model.safetensors", c.model, {{"format", "pt"}});
  if (!c.training_model.empty())
    save_tensors(dir + "/training_model.safetensors", c.training_model, {{"format", "pt"}});
  if (!c.optimizer.empty()) save_tensors(dir + "/optimizer.safetensors", c.optimizer, {{"format", "ptft-optimizer"}});
  if (!c.trainer_state.is_null())
    fs::write_file_atomic(dir + "/trainer_state.json", c.trainer_state.dump(2) + "\n");
}

void write_checkpoint(const std::string& dir, const Checkpoint& c) {
  fs::write_dir_atomic(dir, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    write_checkpoint_files(tmp, c);
  });
}

bool is_checkpoint_dir(const std::string& dir) {
  std::error_code ec;
  return sfs::is_regular_file(dir + "/config.json", ec) && sfs::is_regular_file(dir + "/model.safetensors", ec);
}

Checkpoint read_ptft_checkpoint(const std::string& dir, bool with_training_state) {
  std::error_code ec;
  if (!sfs::exists(dir, ec))
    throw UserError("checkpoint '" + dir + "' does not exist",
                    "pass a checkpoint directory, e.g. runs/NAME/checkpoints/best");
  if (!sfs::is_directory(dir, ec))
    throw UserError("checkpoint '" + dir + "' is not a directory",
                    "a checkpoint is a directory with config.json and model.safetensors (or a ResNet's "
                    ".safetensors file)");
  Checkpoint c;
  c.dir = dir;
  c.config = read_json(dir + "/config.json", "checkpoint config");
  if (!sfs::exists(dir + "/model.safetensors", ec))
    throw UserError("checkpoint '" + dir + "' has no model.safetensors", "the directory is not a complete checkpoint");
  try {
    c.model = load_tensors(dir + "/model.safetensors");
  } catch (const UserError& e) {
    throw e.with_context("loading checkpoint weights");
  }
  if (with_training_state) {
    if (sfs::exists(dir + "/optimizer.safetensors", ec)) c.optimizer = load_tensors(dir + "/optimizer.safetensors");
    if (sfs::exists(dir + "/training_model.safetensors", ec))
      c.training_model = load_tensors(dir + "/training_model.safetensors");
    if (sfs::exists(dir + "/trainer_state.json", ec))
      c.trainer_state = read_json(dir + "/trainer_state.json", "trainer state");
  }
  return c;
}

CheckpointSet::CheckpointSet(std::string root, int keep) : root_(std::move(root)), keep_(keep) {
  sfs::create_directories(root_);
  clean_temporaries();
}

std::string CheckpointSet::step_dir(int64_t step) const {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return root_ + "/" + name;
}

void CheckpointSet::clean_temporaries() {
  std::error_code ec;
  for (const auto& e : sfs::directory_iterator(root_, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) fs::remove_all_quiet(e.path().string());
}

std::string CheckpointSet::save(int64_t step, const std::function<void(const std::string&)>& fill) {
  std::string dir = step_dir(step);
  std::error_code ec;
  if (!sfs::exists(dir, ec)) {
    fs::write_dir_atomic(dir, [&](const std::string& tmp) {
      sfs::create_directories(tmp);
      fill(tmp);
    });
  }
  point("last", sfs::path(dir).filename().string());
  prune();
  return dir;
}

void CheckpointSet::mark_best(int64_t step) {
  std::string dir = step_dir(step);
  PTFT_CHECK(sfs::exists(dir), "mark_best: " + dir + " does not exist");
  point("best", sfs::path(dir).filename().string());
}

void CheckpointSet::point(const std::string& link, const std::string& target_name) {
  // A fresh symlink renamed over the old one: readers see the old or the new target, never none.
  std::string tmp = fs::make_temp_sibling(root_ + "/" + link);
  ::unlink(tmp.c_str());
  if (::symlink(target_name.c_str(), tmp.c_str()) != 0)
    throw UserError("cannot create link '" + tmp + "'", "check that '" + root_ + "' is writable");
  if (::rename(tmp.c_str(), (root_ + "/" + link).c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw UserError("cannot update '" + root_ + "/" + link + "'");
  }
  fs::fsync_dir(root_);
}

std::optional<std::string> CheckpointSet::last_dir() const {
  std::string p = root_ + "/last";
  if (is_checkpoint_dir(p)) return p;
  return std::nullopt;
}

std::optional<std::string> CheckpointSet::best_dir() const {
  std::string p = root_ + "/best";
  if (is_checkpoint_dir(p)) return p;
  return std::nullopt;
}

void CheckpointSet::prune() {
  if (keep_ <= 0) return;
  std::error_code ec;
  std::vector<std::string> steps;
  for (const auto& e : sfs::directory_iterator(root_, ec)) {
    auto name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.find(".tmp-") == std::string::npos && !e.is_symlink()) steps.push_back(name);
  }
  std::sort(steps.begin(), steps.end());
  auto target = [&](const char* link) {
    std::error_code ec2;
    auto t = sfs::read_symlink(root_ + "/" + link, ec2);
    return ec2 ? std::string() : t.filename().string();
  };
  const std::string last = target("last"), best = target("best");
  int64_t excess = static_cast<int64_t>(steps.size()) - keep_;
  for (const auto& name : steps) {
    if (excess <= 0) break;
    if (name == last || name == best) continue;
    // Renamed out of the way first: a kill during the removal then leaves a *.tmp-* directory
    // (cleaned up by the next writer), never a half-deleted step-* that looks like a checkpoint.
    const std::string doomed = fs::make_temp_sibling(root_ + "/" + name);
    std::error_code ec3;
    sfs::rename(root_ + "/" + name, doomed, ec3);
    fs::remove_all_quiet(ec3 ? root_ + "/" + name : doomed);
    --excess;
  }
}

}  // namespace ptft
