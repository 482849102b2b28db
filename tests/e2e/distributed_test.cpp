// Data-parallel training end to end on loopback: `ptft launch` with 2 and 3 processes trains the
// weights one process trains with the combined batch (a GPT on token shards of licence texts), a
// run resumes on another number of processes, a killed rank stops the others with a clear error
// within seconds (and the run resumes from its last checkpoint), SIGINT to the launcher stops every
// rank at the same step, and bad launch environments are user errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "ptft/core/tcp_port.h"
#include "run_ptft.h"

namespace {
using e2e::contains;
using namespace std::chrono_literals;
namespace sfs = std::filesystem;

// Token shards of the licence texts and a tokenizer, made once for the suite.
class DistributedE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new e2e::TempDir("distributed-data");
    const std::string text = "/usr/share/common-licenses/GPL-3";
    auto tok = e2e::run_ptft({"tokenizer", "train", "--input", text, "--vocab-size", "400", "--type", "bpe", "--out",
                              dir_->path("tok"), "--threads", "1"});
    ASSERT_EQ(tok.exit_code, 0) << tok.text();
    auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", dir_->path("tok"), "--input",
                               "/usr/share/common-licenses/", "--out",
                               dir_->path("shards"), "--val-fraction", "0.1", "--threads", "1", "--quiet"});
    ASSERT_EQ(prep.exit_code, 0) << prep.text();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  // A 2-layer GPT, fp32 and no dropout (so that any split of a batch computes the same step);
  // a constant LR after one warmup step (so that a run cut short and resumed for more steps
  // follows the same schedule as one run).
  static std::string gpt_config(const e2e::TempDir& tmp) {
    const std::string shards = dir_->path("shards");
    e2e::write_text(tmp.path("gpt.yaml"),
                    "model: {family: gpt, vocab_size: 400, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 2}\n"
                    "data: {train: " + shards + ", val: " + shards + "}\n"
                    "train: {steps: 8, batch_size: 6, lr: 3.0e-3, warmup: 1, schedule: constant, eval_every: 4,\n"
                    "        save_every: 4, log_every: 1, precision: fp32, weight_decay: 0.1,\n"
                    "        dist_timeout: 60}\n");
    return tmp.path("gpt.yaml");
  }
  static e2e::Result launch(int nproc, const std::vector<std::string>& command) {
    return e2e::run_ptft(e2e::concat({"launch", "--nproc", std::to_string(nproc), "--"}, command), {}, 300s);
  }
  // The events of one kind in RUN/metrics.jsonl. Read while the run writes it too: the line being
  // written may be incomplete, and is skipped.
  static std::vector<nlohmann::json> events(const std::string& run, const std::string& kind) {
    std::vector<nlohmann::json> out;
    std::istringstream in(e2e::read_text(run + "/metrics.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      const auto e = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!e.is_discarded() && e.is_object() && e.value("event", "") == kind) out.push_back(e);
    }
    return out;
  }
  static e2e::TempDir* dir_;
};
e2e::TempDir* DistributedE2E::dir_ = nullptr;

// Weights of one data-parallel step differ from one process's by float summation order only:
// after 8 AdamW steps at lr 3e-3 they agree to ~4e-6; 2e-5 leaves room, and one wrong example
// per step (or a missing all-reduce) moves weights by ~1e-3.
constexpr double kAtol = 2e-5;

TEST_F(DistributedE2E, TwoAndThreeProcessesTrainTheWeightsOfOneProcessWithTheCombinedBatch) {
  e2e::TempDir tmp;
  const std::string cfg = gpt_config(tmp);
  auto one = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("one"), "--threads", "1", "--quiet"});
  ASSERT_EQ(one.exit_code, 0) << one.text();
  // 2 processes x 3 examples, and 3 processes x 1 example x 2 accumulated micro-batches.
  auto two = launch(2, {"pretrain", "--config", cfg, "--out", tmp.path("two"), "--set", "train.batch_size=3"});
  ASSERT_EQ(two.exit_code, 0) << two.text();
  auto three = launch(3, {"pretrain", "--config", cfg, "--out", tmp.path("three"), "--set", "train.batch_size=1",
                          "--set", "train.grad_accum=2", "--quiet"});
  ASSERT_EQ(three.exit_code, 0) << three.text();

  // Rank 0 says how the batch is split; the launcher how many processes it started.
  EXPECT_TRUE(contains(two.err, "ptft launch: 2 processes")) << two.err;
  EXPECT_TRUE(contains(two.err, "data-parallel: 2 processes (gloo")) << two.err;
  EXPECT_TRUE(contains(two.err, "6 examples per step (train.batch_size 3 x grad_accum 1 x 2)")) << two.err;
  EXPECT_FALSE(contains(two.err, "(rank 1)")) << two.err;  // the other ranks are silent

  const auto ref = e2e::read_tensors(tmp.path("one/checkpoints/last/model.safetensors"));
  for (const std::string run : {"two", "three"}) {
    SCOPED_TRACE(run);
    EXPECT_TRUE(e2e::close_tensors(e2e::read_tensors(tmp.path(run + "/checkpoints/last/model.safetensors")), ref, kAtol));
    // The step's mean loss over all ranks, the tokens of all ranks, rank 0's evaluation.
    const auto a = events(tmp.path("one"), "train"), b = events(tmp.path(run), "train");
    ASSERT_EQ(a.size(), 8u);
    ASSERT_EQ(b.size(), 8u);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i]["loss"].get<double>(), a[i]["loss"].get<double>(), 1e-5);
    const auto sa = e2e::read_json(tmp.path("one/summary.json")), sb = e2e::read_json(tmp.path(run + "/summary.json"));
    EXPECT_EQ(sb["tokens_seen"], sa["tokens_seen"]);
    EXPECT_EQ(sb["world_size"], run == "two" ? 2 : 3);
    EXPECT_NEAR(sb["last_eval"]["val_loss"].get<double>(), sa["last_eval"]["val_loss"].get<double>(), 1e-4);
    // Rank 0 alone wrote the run: one start event, one header in results.csv.
    EXPECT_EQ(events(tmp.path(run), "start").size(), 1u);
    EXPECT_EQ(events(tmp.path(run), "start")[0]["world_size"], run == "two" ? 2 : 3);
    const std::string csv = e2e::read_text(tmp.path(run + "/results.csv"));
    EXPECT_EQ(csv.find("epoch"), csv.rfind("epoch")) << csv;
    const auto state = e2e::read_json(tmp.path(run + "/checkpoints/last/trainer_state.json"));
    EXPECT_EQ(state["data_position"]["world_size"], run == "two" ? 2 : 3);
    EXPECT_EQ(state["samples_seen"], 8 * 6);
  }
}

TEST_F(DistributedE2E, AResNetWithChannelsLastWeightsTrainsOnTwoProcesses) {
  // Its convolution weights are held channels-last: the start-of-training broadcast sends them
  // (it once refused any non-contiguous tensor). BatchNorm statistics are per rank, so the
  // weights are not compared with one process's; rank 0's run ends and its weights are finite.
  const std::string fmnist = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(fmnist)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  e2e::TempDir tmp;
  e2e::write_text(tmp.path("r.yaml"),
                  "model: {family: resnet, preset: resnet-fmnist}\n"
                  "data: {train: " + fmnist + ", images: {size: 28, channels: 1}}\n"
                  "train: {steps: 3, batch_size: 8, warmup: 1, eval_every: 0, save_every: 3, dist_timeout: 60}\n");
  auto r = launch(2, {"pretrain", "--config", tmp.path("r.yaml"), "--out", tmp.path("run"), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(events(tmp.path("run"), "end").size(), 1u);
  for (const auto& [name, t] : e2e::read_tensors(tmp.path("run/checkpoints/last/model.safetensors"))) {
    if (t.dtype != "F32") continue;
    const auto* v = reinterpret_cast<const float*>(t.bytes.data());
    for (size_t i = 0; i < t.bytes.size() / sizeof(float); ++i) ASSERT_TRUE(std::isfinite(v[i])) << name;
  }
}

TEST_F(DistributedE2E, ALoraFineTuneOnTwoProcessesMatchesOneProcess) {
  e2e::TempDir tmp;
  const std::string cfg = gpt_config(tmp);
  auto base = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("base"), "--threads", "1", "--quiet"});
  ASSERT_EQ(base.exit_code, 0) << base.text();
  // LoRA: the base weights are frozen (no gradient anywhere), the adapters train.
  const std::vector<std::string> ft = {"finetune", "--config", cfg, "--from", tmp.path("base"), "--set",
                                       "finetune.strategy=lora", "--set", "finetune.lora.r=4", "--quiet"};
  auto one = e2e::run_ptft(e2e::concat(ft, {"--out", tmp.path("one"), "--threads", "1"}));
  ASSERT_EQ(one.exit_code, 0) << one.text();
  auto two = launch(2, e2e::concat(ft, {"--out", tmp.path("two"), "--set", "train.batch_size=3"}));
  ASSERT_EQ(two.exit_code, 0) << two.text();
  for (const std::string file : {"model.safetensors", "adapter_model.safetensors"}) {
    SCOPED_TRACE(file);
    EXPECT_TRUE(e2e::close_tensors(e2e::read_tensors(tmp.path("two/checkpoints/last/" + file)),
                                   e2e::read_tensors(tmp.path("one/checkpoints/last/" + file)), kAtol));
  }
  // The frozen base did not move on either side.
  const auto a = e2e::read_tensors(tmp.path("base/checkpoints/last/model.safetensors"));
  const auto b = e2e::read_tensors(tmp.path("two/checkpoints/last/model.safetensors"));
  ASSERT_TRUE(b.count("transformer.wpe.weight"));
  EXPECT_TRUE(a.at("transformer.wpe.weight") == b.at("transformer.wpe.weight"));
}

TEST_F(DistributedE2E, ARunResumesOnAnotherNumberOfProcesses) {
  e2e::TempDir tmp;
  const std::string cfg = gpt_config(tmp);
  auto one = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("one"), "--threads", "1", "--quiet"});
  ASSERT_EQ(one.exit_code, 0) << one.text();
  // 4 steps on 2 processes, then 4 more in one process (3 x 2 = 6 examples a step throughout),
  // then 4 more on 3 processes: the first 8 match the uninterrupted run.
  auto first = launch(2, {"pretrain", "--config", cfg, "--out", tmp.path("run"), "--set", "train.batch_size=3", "--set",
                          "train.steps=4", "--quiet"});
  ASSERT_EQ(first.exit_code, 0) << first.text();
  auto second = e2e::run_ptft({"pretrain", "--config", cfg, "--out", tmp.path("run"), "--resume", "--threads", "1"});
  ASSERT_EQ(second.exit_code, 0) << second.text();
  EXPECT_TRUE(contains(second.err, "resumed from")) << second.err;
  EXPECT_FALSE(contains(second.err, "will not reproduce")) << second.err;
  EXPECT_TRUE(e2e::close_tensors(e2e::read_tensors(tmp.path("run/checkpoints/last/model.safetensors")),
                                 e2e::read_tensors(tmp.path("one/checkpoints/last/model.safetensors")), kAtol));
  // The summary counts the whole run, the 2-process part included.
  const auto resumed = e2e::read_json(tmp.path("run/summary.json"));
  EXPECT_EQ(resumed["tokens_seen"], e2e::read_json(tmp.path("one/summary.json"))["tokens_seen"]);
  EXPECT_GE(resumed["elapsed_s"].get<double>(), resumed["wall_seconds"].get<double>());
  const auto resumes = events(tmp.path("run"), "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["step"], 4);
  EXPECT_EQ(resumes[0]["world_size"], 1);

  // Another split of the batch per step says that the run no longer reproduces one run.
  auto third = launch(3, {"pretrain", "--config", cfg, "--out", tmp.path("run"), "--resume", "--set",
                          "train.steps=12", "--set", "train.batch_size=1"});
  ASSERT_EQ(third.exit_code, 0) << third.text();
  EXPECT_TRUE(contains(third.err, "resuming with 3 examples per step (train.batch_size 1 x grad_accum 1 x 3 "
                                  "processes) but the checkpoint was written with 6 (6 x 1 x 1)")) << third.err;
  EXPECT_EQ(e2e::read_json(tmp.path("run/summary.json"))["steps"], 12);
}

// Rank processes started by hand, as a cluster scheduler would, on a long MLP run.
struct Ranks {
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
};
Ranks start_ranks(const e2e::TempDir& tmp, int world, const std::string& run, int port, int timeout_s = 60) {
  Ranks r;
  for (int rank = 0; rank < world; ++rank) {
    const std::string log = tmp.path("rank" + std::to_string(rank));
    r.logs.push_back(log);
    r.pids.push_back(e2e::start_ptft(
        e2e::spirals_args("pretrain", run, {"train.steps=100000", "train.save_every=50", "train.eval_every=0",
                                            "train.batch_size=32",
                                            "train.dist_timeout=" + std::to_string(timeout_s)}),
        log, tmp.root(),
        {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)}, {"MASTER_ADDR", "127.0.0.1"},
         {"MASTER_PORT", std::to_string(port)}, {"OMP_NUM_THREADS", "1"}}));
  }
  return r;
}

TEST_F(DistributedE2E, AKilledRankStopsTheOthersWithAClearErrorAndTheRunResumes) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  Ranks ranks = start_ranks(tmp, 2, run, ptft::free_tcp_port());
  ASSERT_TRUE(e2e::wait_until([&] { return sfs::exists(run + "/checkpoints/last/trainer_state.json"); }, 120s))
      << e2e::read_text(ranks.logs[0] + ".err") << e2e::read_text(ranks.logs[1] + ".err");
  ::kill(ranks.pids[1], SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  const e2e::ExitStatus st = e2e::wait_for(ranks.pids[0], 60s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  e2e::wait_for(ranks.pids[1]);
  const std::string err = e2e::read_text(ranks.logs[0] + ".err");
  EXPECT_FALSE(st.timed_out) << err;
  EXPECT_EQ(st.exit_code, 1) << err;
  EXPECT_LT(took, 30.0) << err;  // a closed socket is noticed at once, well before train.dist_timeout
  EXPECT_TRUE(contains(err, "error (rank 0): rank 0 of 2 lost contact with the other data-parallel processes during"))
      << err;
  EXPECT_TRUE(contains(err, "--resume")) << err;

  // The last checkpoint is whole; one process with both ranks' batch continues from it.
  ASSERT_TRUE(e2e::complete_checkpoint(run + "/checkpoints/last"));
  const int64_t at = e2e::read_json(run + "/checkpoints/last/trainer_state.json")["step"].get<int64_t>();
  EXPECT_GT(at, 0);
  auto resumed = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", run, {"train.batch_size=64",
                                                                               "train.steps=" + std::to_string(at + 20)}),
                                           {"--resume"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.text();
  const auto state = e2e::read_json(run + "/checkpoints/last/trainer_state.json");
  EXPECT_EQ(state["step"], at + 20);
  EXPECT_EQ(state["data_position"]["world_size"], 1);
}

TEST_F(DistributedE2E, AHangingRankStopsTheOthersAfterTheTimeout) {
  e2e::TempDir tmp;
  const std::string run = tmp.path("run");
  Ranks ranks = start_ranks(tmp, 2, run, ptft::free_tcp_port(), /*timeout_s=*/3);
  ASSERT_TRUE(e2e::wait_until([&] { return sfs::exists(run + "/checkpoints/last/trainer_state.json"); }, 120s))
      << e2e::read_text(ranks.logs[0] + ".err") << e2e::read_text(ranks.logs[1] + ".err");
  ::kill(ranks.pids[1], SIGSTOP);  // alive, sockets open, silent
  const auto stopped_at = std::chrono::steady_clock::now();
  const e2e::ExitStatus st = e2e::wait_for(ranks.pids[0], 60s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
  ::kill(ranks.pids[1], SIGKILL);
  e2e::wait_for(ranks.pids[1]);
  const std::string err = e2e::read_text(ranks.logs[0] + ".err");
  EXPECT_EQ(st.exit_code, 1) << err;
  EXPECT_GE(took, 2.5) << err;  // it waited train.dist_timeout ...
  EXPECT_LT(took, 30.0) << err;  // ... and not much longer
  EXPECT_TRUE(contains(err, "rank 0 of 2 lost contact")) << err;
  EXPECT_TRUE(contains(err, "did not answer within train.dist_timeout (3.0 s)")) << err;
  ASSERT_TRUE(e2e::complete_checkpoint(run + "/checkpoints/last"));
}

// The launcher's children, from /proc (rank order = start order = pid order on a quiet machine
// is not guaranteed, so RANK is read from each child's environment).
std::map<int, pid_t> children_by_rank(pid_t launcher) {
  std::map<int, pid_t> out;
  std::ifstream in("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children");
  pid_t pid;
  while (in >> pid) {
    std::ifstream env("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string var;
    while (std::getline(env, var, '\0'))
      if (var.rfind("RANK=", 0) == 0) out[std::stoi(var.substr(5))] = pid;
  }
  return out;
}

TEST_F(DistributedE2E, LaunchStopsTheOthersWhenARankDiesAndPassesSignalsOn) {
  e2e::TempDir tmp;
  const std::vector<std::string> train =
      e2e::concat({"launch", "--nproc", "2", "--grace", "20", "--"},
                  e2e::spirals_args("pretrain", tmp.path("run"),
                                    {"train.steps=100000", "train.save_every=50", "train.eval_every=0",
                                     "train.batch_size=32"}));
  // A killed rank: the launcher reports it, the survivor stops on its own, the status is non-zero.
  {
    const pid_t launcher = e2e::start_ptft(train, tmp.path("kill"), tmp.root());
    ASSERT_TRUE(e2e::wait_until([&] { return sfs::exists(tmp.path("run/checkpoints/last")); }, 120s))
        << e2e::read_text(tmp.path("kill.err"));
    std::map<int, pid_t> kids = children_by_rank(launcher);
    ASSERT_EQ(kids.size(), 2u);
    ::kill(kids[1], SIGKILL);
    const e2e::ExitStatus st = e2e::wait_for(launcher, 60s);
    const std::string err = e2e::read_text(tmp.path("kill.err"));
    EXPECT_FALSE(st.timed_out) << err;
    EXPECT_EQ(st.exit_code, 128 + SIGKILL) << err;
    EXPECT_TRUE(contains(err, "ptft launch: rank 1 was killed by signal 9")) << err;
    EXPECT_TRUE(contains(err, "error (rank 0): rank 0 of 2 lost contact")) << err;
    EXPECT_TRUE(contains(err, "ptft launch: failed: rank 1")) << err;
    EXPECT_FALSE(contains(err, "SIGTERM")) << err;  // rank 0 stopped within the grace period
  }
  // SIGINT to the launcher: every rank stops at the same step, rank 0 checkpoints, status 130; the
  // resume command it prints goes through the launcher again, invoked as the launcher was.
  {
    const pid_t launcher = e2e::start_ptft(e2e::concat(train, {"--resume"}), tmp.path("int"), tmp.root());
    const std::string metrics = tmp.path("run/metrics.jsonl");
    ASSERT_TRUE(e2e::wait_until([&] { return events(tmp.path("run"), "resume").size() == 1 &&
                                             events(tmp.path("run"), "train").size() > 20; }, 120s))
        << e2e::read_text(tmp.path("int.err"));
    ::kill(launcher, SIGINT);
    const e2e::ExitStatus st = e2e::wait_for(launcher, 60s);
    const std::string err = e2e::read_text(tmp.path("int.err"));
    EXPECT_EQ(st.exit_code, 130) << err;
    EXPECT_FALSE(contains(err, "failed")) << err;
    const auto stops = events(tmp.path("run"), "interrupted");
    ASSERT_EQ(stops.size(), 1u) << err;
    const int64_t step = stops[0]["step"].get<int64_t>();
    EXPECT_EQ(e2e::read_json(tmp.path("run/checkpoints/last/trainer_state.json"))["step"], step);
    EXPECT_TRUE(contains(err, "resume with: " + e2e::binary() + " launch --nproc 2 -- pretrain --config")) << err;
  }
}

TEST_F(DistributedE2E, BadLaunchEnvironmentsAndCommandsAreUserErrors) {
  e2e::TempDir tmp;
  const auto args = e2e::spirals_args("pretrain", tmp.path("run"), {"train.steps=5"});
  struct Case {
    e2e::Env env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"RANK", "0"}}, "WORLD_SIZE is not set but RANK is"},
      {{{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}},
       "environment variable RANK='2' is not a rank below WORLD_SIZE=2"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "two"}}, "environment variable WORLD_SIZE='two' is not a world size"},
      {{{"RANK", "1"}, {"WORLD_SIZE", "2"}}, "WORLD_SIZE=2 but MASTER_ADDR is not set"},
      {{{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "70000"}},
       "environment variable MASTER_PORT='70000' is not a TCP port"},
  };
  for (const auto& c : cases) {
    auto r = e2e::run_ptft(args, {}, 60s, c.env);
    EXPECT_EQ(r.exit_code, 1) << c.message << "\n" << r.text();
    EXPECT_TRUE(contains(r.err, c.message)) << r.err;
    EXPECT_FALSE(sfs::exists(tmp.path("run"))) << c.message;
  }
  // Nobody at MASTER_ADDR:MASTER_PORT: rank 1 gives up after train.dist_timeout with the fix.
  auto lonely = e2e::run_ptft(e2e::concat(e2e::spirals_args("pretrain", tmp.path("run"), {"train.dist_timeout=2"}), {}),
                              {}, 60s,
                              {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"},
                               {"MASTER_PORT", std::to_string(ptft::free_tcp_port())}});
  EXPECT_EQ(lonely.exit_code, 1) << lonely.text();
  EXPECT_TRUE(contains(lonely.err, "rank 1 of 2: the rendezvous at 127.0.0.1:")) << lonely.err;
  EXPECT_TRUE(contains(lonely.err, "that rank 0 started")) << lonely.err;

  auto not_training = e2e::run_ptft({"launch", "--nproc", "2", "--", "eval", "--model", "x"});
  EXPECT_EQ(not_training.exit_code, 1) << not_training.text();
  EXPECT_TRUE(contains(not_training.err, "ptft launch runs a training command, got 'eval'")) << not_training.err;
  auto zero = e2e::run_ptft(e2e::concat({"launch", "--nproc", "0", "--"}, args));
  EXPECT_EQ(zero.exit_code, 1) << zero.text();
  EXPECT_TRUE(contains(zero.err, "--nproc must be >= 1")) << zero.err;
}

}  // namespace
