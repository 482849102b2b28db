// End-to-end: a run killed at any instant loses no checkpoint, and --resume continues it to
// exactly the weights an uninterrupted run reaches.
//
//   SIGKILL mid-run  -> every step-* directory complete, `last` valid; --resume finishes the run.
//   SIGINT / SIGTERM -> a checkpoint at the step reached, exit status 130 / 143, "resume with:
//                       <command>" naming the binary as invoked; running that command in a shell
//                       finishes the run.
//   In every case checkpoints/last/model.safetensors (and the optimizer state) is byte-identical
//   to the uninterrupted run's.
#include <gtest/gtest.h>

#include <regex>

#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

// Long enough (a few seconds on 2 cores) to be interrupted mid-run, short enough to run thrice.
constexpr int64_t kSteps = 2000;
const std::vector<std::string> kLongRun = {"train.steps=" + std::to_string(kSteps), "train.batch_size=256",
                                           "train.save_every=50", "train.eval_every=250"};

// The uninterrupted run, computed once per test process and shared by the tests in it.
struct Reference {
  e2e::TempDir dir{"reference"};
  std::string run = dir.path("run");
  e2e::TensorBytesMap model, optimizer;
  nlohmann::json summary;
};
const Reference& reference() {
  static Reference* ref = [] {
    auto* r = new Reference;
    auto res = e2e::run_ptft(e2e::spirals_args("pretrain", r->run, kLongRun));
    if (res.exit_code != 0) {
      ADD_FAILURE() << "the reference run failed: " << res.text();
      return r;
    }
    r->model = e2e::read_tensors(r->run + "/checkpoints/last/model.safetensors");
    r->optimizer = e2e::read_tensors(r->run + "/checkpoints/last/optimizer.safetensors");
    r->summary = e2e::read_json(r->run + "/summary.json");
    return r;
  }();
  static const std::unique_ptr<Reference> cleanup(ref);  // removes its directory at exit
  return *ref;
}

int64_t last_step(const std::string& run) {
  try {
    return e2e::read_json(run + "/checkpoints/last/trainer_state.json")["step"].get<int64_t>();
  } catch (const std::exception&) {
    return -1;  // not there yet (or being swapped: the link is renamed atomically, so no torn reads)
  }
}

// Starts the long run in the background and returns once it has written a checkpoint and
// trained a little further (so that the interrupt falls between checkpoints, mid-run).
pid_t start_and_wait_for_checkpoint(const std::string& run, const std::string& log) {
  const pid_t pid = e2e::start_ptft(e2e::spirals_args("pretrain", run, kLongRun), log);
  const bool started = e2e::wait_until([&] { return last_step(run) >= 50; }, std::chrono::seconds(60));
  if (!started) {
    ::kill(pid, SIGKILL);
    e2e::wait_for(pid);
    ADD_FAILURE() << "no checkpoint after 60 s; stderr:\n" << e2e::read_text(log + ".err");
    return -1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  return pid;
}

// The run directory holds no half-written checkpoint: every step-* directory is complete and
// `last` points to one of them.
void expect_no_torn_checkpoint(const std::string& run) {
  const std::string ck = run + "/checkpoints";
  for (const auto& name : e2e::entries_with_prefix(ck, "step-")) {
    if (contains(name, ".tmp-")) continue;  // a writer's temporary: never read, cleaned on resume
    EXPECT_TRUE(e2e::complete_checkpoint(ck + "/" + name)) << name;
  }
  ASSERT_TRUE(sfs::is_symlink(ck + "/last"));
  EXPECT_TRUE(e2e::complete_checkpoint(ck + "/last"));
  const std::string target = sfs::read_symlink(ck + "/last").filename().string();
  EXPECT_FALSE(contains(target, ".tmp-")) << target;
  EXPECT_EQ(e2e::read_json(ck + "/last/trainer_state.json")["step"].get<int64_t>(),
            std::stoll(target.substr(5)));
}

// The finished run equals the uninterrupted one.
void expect_same_as_reference(const std::string& run) {
  const Reference& ref = reference();
  ASSERT_FALSE(ref.model.empty());
  auto summary = e2e::read_json(run + "/summary.json");
  EXPECT_EQ(summary["steps"], kSteps);
  EXPECT_EQ(summary["interrupted"], false);
  EXPECT_EQ(e2e::read_json(run + "/checkpoints/last/trainer_state.json")["step"], kSteps);
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(run + "/checkpoints/last/model.safetensors"), ref.model))
      << "resumed run's weights differ from the uninterrupted run's";
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(run + "/checkpoints/last/optimizer.safetensors"), ref.optimizer))
      << "resumed run's optimizer state differs from the uninterrupted run's";
  EXPECT_EQ(summary["best_step"], ref.summary["best_step"]);
  EXPECT_EQ(summary["best_metric"], ref.summary["best_metric"]);
  EXPECT_EQ(summary["last_eval"], ref.summary["last_eval"]);
  EXPECT_EQ(sfs::read_symlink(run + "/checkpoints/best"), sfs::read_symlink(ref.run + "/checkpoints/best"));
  // Temporaries of the killed writer are gone.
  for (const auto& name : e2e::list_tree(run + "/checkpoints")) EXPECT_FALSE(contains(name, ".tmp-")) << name;
}

TEST(ResumeE2E, SigkillMidRunThenResumeMatchesUninterrupted) {
  (void)reference();  // before the timed part: the two runs would otherwise share the CPUs
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  const pid_t pid = start_and_wait_for_checkpoint(run, tmp.path("bg"));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const auto st = e2e::wait_for(pid);
  ASSERT_EQ(st.signal, SIGKILL) << "the run ended before it was killed (exit " << st.exit_code
                                << "); make it longer. stderr:\n" << e2e::read_text(tmp.path("bg.err"));

  expect_no_torn_checkpoint(run);
  const int64_t killed_at = last_step(run);
  EXPECT_GE(killed_at, 50);
  EXPECT_LT(killed_at, kSteps);
  EXPECT_EQ(killed_at % 50, 0) << "without a signal handler only save_every checkpoints exist";

  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, kLongRun), {"--resume"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  expect_same_as_reference(run);

  // metrics.jsonl: one valid line per event across both processes, with the resume recorded.
  auto events = e2e::read_jsonl(run + "/metrics.jsonl");
  int starts = 0, resumes = 0;
  for (const auto& e : events) {
    if (e["event"] == "start") ++starts;
    if (e["event"] == "resume") {
      ++resumes;
      EXPECT_EQ(e["step"], killed_at);
    }
  }
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(resumes, 1);
}

// SIGINT (Ctrl-C) or SIGTERM (a scheduler's preemption): stop at the step reached, save it,
// say how to resume, exit 128 + signal (`pretrain && finetune` stops). Then the printed command,
// run by a shell as printed, finishes the run.
void interrupt_then_resume(int sig) {
  (void)reference();
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  const pid_t pid = start_and_wait_for_checkpoint(run, tmp.path("bg"));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, sig), 0);
  const auto st = e2e::wait_for(pid, std::chrono::seconds(60));
  const std::string err = e2e::read_text(tmp.path("bg.err"));
  ASSERT_FALSE(st.timed_out) << "did not stop after the signal; stderr:\n" << err;
  ASSERT_EQ(st.signal, 0) << "died of signal " << st.signal << "; stderr:\n" << err;
  ASSERT_EQ(st.exit_code, 128 + sig) << err;

  std::smatch m;
  ASSERT_TRUE(std::regex_search(err, m, std::regex("interrupted at step (\\d+)"))) << err;
  const int64_t stopped_at = std::stoll(m[1]);
  EXPECT_LT(stopped_at, kSteps) << "the signal came too late to interrupt; make the run longer";
  EXPECT_TRUE(contains(err, "checkpoint written to " + run + "/checkpoints/last")) << err;

  // The checkpoint holds exactly the step reached (not the previous save_every one).
  expect_no_torn_checkpoint(run);
  EXPECT_EQ(last_step(run), stopped_at);
  EXPECT_EQ(sfs::read_symlink(run + "/checkpoints/last").filename().string(),
            "step-" + std::string(8 - std::to_string(stopped_at).size(), '0') + std::to_string(stopped_at));
  auto summary = e2e::read_json(run + "/summary.json");
  EXPECT_EQ(summary["interrupted"], true);
  EXPECT_EQ(summary["steps"], stopped_at);
  bool recorded = false;
  for (const auto& e : e2e::read_jsonl(run + "/metrics.jsonl"))
    if (e["event"] == "interrupted") {
      recorded = true;
      EXPECT_EQ(e["step"], stopped_at);
      EXPECT_EQ(e["signal"], sig);
    }
  EXPECT_TRUE(recorded) << "no 'interrupted' event in metrics.jsonl";

  // "resume with: BINARY pretrain --config RUN/config.yaml --out RUN --resume" (the binary as it
  // was invoked, not a `ptft` that may not be on PATH) — a shell runs exactly that.
  ASSERT_TRUE(std::regex_search(err, m, std::regex("resume with: ([^\\n]+)"))) << err;
  const std::string command = m[1];
  EXPECT_EQ(command, e2e::binary() + " pretrain --config " + run + "/config.yaml --out " + run + " --resume");
  auto r = e2e::run_program("/bin/sh", {"-c", command + " --quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  expect_same_as_reference(run);
}

TEST(ResumeE2E, SigintStopsCleanlyAndResumeMatchesUninterrupted) { interrupt_then_resume(SIGINT); }

TEST(ResumeE2E, SigtermStopsCleanlyAndResumeMatchesUninterrupted) { interrupt_then_resume(SIGTERM); }

TEST(ResumeE2E, ResumeOfAFinishedRunChangesNothing) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  const std::vector<std::string> sets = {"train.steps=60", "train.save_every=20"};
  auto first = e2e::run_ptft(e2e::spirals_args("pretrain", run, sets));
  ASSERT_EQ(first.exit_code, 0) << first.text();
  const auto weights = e2e::read_tensors(run + "/checkpoints/last/model.safetensors");
  const std::string summary = e2e::read_text(run + "/summary.json");
  const std::string metrics = e2e::read_text(run + "/metrics.jsonl");
  auto again = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, sets, /*quiet=*/false), {"--resume"}));
  ASSERT_EQ(again.exit_code, 0) << again.text();
  EXPECT_TRUE(contains(again.err, "run '" + run + "' already finished at step 60")) << again.err;
  EXPECT_TRUE(contains(again.err, "nothing was changed")) << again.err;
  EXPECT_TRUE(contains(again.err, "--set train.steps=120")) << again.err;  // how to go on
  EXPECT_FALSE(contains(again.err, "step 61")) << again.err;
  EXPECT_EQ(last_step(run), 60);
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(run + "/checkpoints/last/model.safetensors"), weights));
  EXPECT_EQ(e2e::read_text(run + "/summary.json"), summary) << "summary.json was rewritten";
  EXPECT_EQ(e2e::read_text(run + "/metrics.jsonl"), metrics) << "metrics.jsonl was appended to";

  // With more steps asked for, the same command trains on from step 60.
  auto more = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, {"train.steps=80", "train.save_every=20"}),
                                        {"--resume"}));
  ASSERT_EQ(more.exit_code, 0) << more.text();
  EXPECT_EQ(last_step(run), 80);
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["steps"], 80);
}

// A fine-tune stopped with Ctrl-C resumes with the command it prints: finetune.from comes from
// the run's config.yaml (no --from), and the model keys that file holds are the checkpoint's own,
// so no "ignored when fine-tuning" warning.
TEST(ResumeE2E, InterruptedFinetuneResumesWithThePrintedCommand) {
  e2e::TempDir tmp;
  const std::string pre = tmp.path("pre"), run = tmp.path("ft");
  auto first = e2e::run_ptft(e2e::spirals_args("pretrain", pre, {"train.steps=20"}));
  ASSERT_EQ(first.exit_code, 0) << first.text();
  const pid_t pid = e2e::start_ptft(
      e2e::concat(e2e::spirals_args("finetune", run, kLongRun), {"--from", pre}), tmp.path("bg"));
  ASSERT_TRUE(e2e::wait_until([&] { return last_step(run) >= 50; }, std::chrono::seconds(60)))
      << e2e::read_text(tmp.path("bg.err"));
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  const auto st = e2e::wait_for(pid, std::chrono::seconds(60));
  const std::string err = e2e::read_text(tmp.path("bg.err"));
  ASSERT_EQ(st.exit_code, 130) << err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(err, m, std::regex("resume with: ([^\\n]+)"))) << err;
  const std::string command = m[1];
  EXPECT_FALSE(contains(command, "--from")) << command;
  auto r = e2e::run_program("/bin/sh", {"-c", command + " --set train.steps=" + std::to_string(last_step(run) + 20)});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.err, "resumed from " + run + "/checkpoints/last")) << r.err;
  EXPECT_FALSE(contains(r.err, "ignored when fine-tuning")) << r.err;
  EXPECT_FALSE(contains(r.err, "which is gone")) << r.err;  // synthetic data is not a path
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["interrupted"], false);
}

TEST(ResumeE2E, ResumeRepairsABestLinkLeftBehindByAKill) {
  // A new best is saved as step-K (which moves `last`), then `best` is moved to it. A kill
  // between the two renames leaves `best` at the previous best while the state says K; this
  // is that state, made by hand. --resume must point `best` back to step-K.
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  const std::vector<std::string> sets = {"train.steps=100", "train.save_every=50", "train.eval_every=50"};
  auto first = e2e::run_ptft(e2e::spirals_args("pretrain", run, sets));
  ASSERT_EQ(first.exit_code, 0) << first.text();
  const std::string ck = run + "/checkpoints";
  ASSERT_EQ(e2e::read_json(ck + "/last/trainer_state.json")["best_step"], 100)
      << "the setup needs the last evaluation to be the best";
  ASSERT_TRUE(sfs::is_directory(ck + "/step-00000050"));
  sfs::remove(ck + "/best");
  sfs::create_directory_symlink("step-00000050", ck + "/best");

  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, sets), {"--resume"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(e2e::read_json(run + "/summary.json")["best_step"], 100);
  EXPECT_EQ(sfs::read_symlink(ck + "/best").string(), "step-00000100");
}

TEST(ResumeE2E, CorruptLastCheckpointIsNamedAndNothingIsDeleted) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  const std::vector<std::string> sets = {"train.steps=100", "train.save_every=50", "train.eval_every=50"};
  auto first = e2e::run_ptft(e2e::spirals_args("pretrain", run, sets));
  ASSERT_EQ(first.exit_code, 0) << first.text();
  const std::string bad = run + "/checkpoints/last/model.safetensors";
  e2e::truncate_half(bad);

  std::map<std::string, uintmax_t> before;  // every file and its size
  for (const auto& f : e2e::list_tree(run))
    if (sfs::is_regular_file(run + "/" + f)) before[f] = sfs::file_size(run + "/" + f);
  const std::string metrics = e2e::read_text(run + "/metrics.jsonl");

  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, sets), {"--resume"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, bad)) << r.err;
  EXPECT_TRUE(contains(r.err, "error: ")) << r.err;

  // Nothing deleted or rewritten; only metrics.jsonl may have grown.
  for (const auto& [f, size] : before) {
    SCOPED_TRACE(f);
    ASSERT_TRUE(sfs::is_regular_file(run + "/" + f));
    if (f == "metrics.jsonl") EXPECT_EQ(e2e::read_text(run + "/" + f).rfind(metrics, 0), 0u);
    else EXPECT_EQ(sfs::file_size(run + "/" + f), size);
  }
  EXPECT_TRUE(sfs::is_symlink(run + "/checkpoints/last"));
  EXPECT_TRUE(sfs::is_symlink(run + "/checkpoints/best"));
  EXPECT_TRUE(e2e::complete_checkpoint(run + "/checkpoints/step-00000050"));
}

TEST(ResumeE2E, ResumeWithAnotherModelNamesTheDifferingKeysAndChangesNothing) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  const std::vector<std::string> sets = {"train.steps=20", "train.save_every=20", "train.eval_every=20"};
  auto first = e2e::run_ptft(e2e::spirals_args("pretrain", run, sets));
  ASSERT_EQ(first.exit_code, 0) << first.text();
  const auto weights = e2e::read_tensors(run + "/checkpoints/last/model.safetensors");

  // The checkpoint's MLP has hidden [64, 64] (configs/mlp-spirals.yaml).
  auto r = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, e2e::concat(sets, {"model.hidden=[32]"})),
                                     {"--resume"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "--resume: the config's model differs from the checkpoint's")) << r.err;
  EXPECT_TRUE(contains(r.err, "model.hidden (config [32], checkpoint [64, 64])")) << r.err;
  EXPECT_FALSE(contains(r.err, "model.in_features")) << r.err;  // only what differs
  EXPECT_FALSE(contains(r.err, "damaged")) << r.err;
  EXPECT_TRUE(contains(r.err, "--out")) << r.err;  // the hint: or a new run
  EXPECT_EQ(last_step(run), 20);
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(run + "/checkpoints/last/model.safetensors"), weights));
}

TEST(ResumeE2E, ResumeWithoutARunDirectoryConfigNeedsConfig) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft({"pretrain", "--out", tmp.path("nothing-here"), "--resume"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "--config")) << r.err;
}

}  // namespace
