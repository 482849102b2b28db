// End-to-end: `ptft env` reports versions, the BLAS actually loaded, threads, CPU and devices;
// `--json` is one machine-readable object on stdout, the plain form is human text on stderr.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace {

TEST(EnvE2E, JsonIsOneObjectWithTheDocumentedKeys) {
  auto r = e2e::run_ptft({"env", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << "stdout is not one JSON document:\n" << r.out;
  ASSERT_TRUE(j.is_object());

  ASSERT_TRUE(j.contains("torch"));
  EXPECT_TRUE(j["torch"].is_string());
  EXPECT_FALSE(j["torch"].get<std::string>().empty());

  ASSERT_TRUE(j.contains("blas"));
  ASSERT_TRUE(j["blas"].contains("name"));
  EXPECT_TRUE(j["blas"]["name"].is_string());
  EXPECT_NE(j["blas"]["name"].get<std::string>(), "none loaded");
  ASSERT_TRUE(j["blas"].contains("libraries"));
  ASSERT_TRUE(j["blas"]["libraries"].is_array());
  EXPECT_FALSE(j["blas"]["libraries"].empty()) << "no BLAS library found mapped in the process";

  ASSERT_TRUE(j.contains("threads"));
  ASSERT_TRUE(j["threads"].contains("intra_op"));
  ASSERT_TRUE(j["threads"]["intra_op"].is_number_integer());
  EXPECT_GE(j["threads"]["intra_op"].get<int>(), 1);

  ASSERT_TRUE(j.contains("cpu"));
  ASSERT_TRUE(j["cpu"].contains("features"));
  EXPECT_TRUE(j["cpu"]["features"].is_array());

  ASSERT_TRUE(j.contains("cuda"));
  ASSERT_TRUE(j["cuda"].contains("devices"));
  ASSERT_TRUE(j["cuda"]["devices"].is_number_integer());
  EXPECT_GE(j["cuda"]["devices"].get<int>(), 0);
  // This build (Debian libtorch + libgloo-dev) trains data-parallel on the CPU through Gloo.
  ASSERT_TRUE(j.contains("distributed")) << j.dump(2);
  EXPECT_NE(j["distributed"]["backends"].dump().find("\"gloo\""), std::string::npos) << j.dump(2);
  EXPECT_EQ(j["distributed"]["world_size"], 1);
}

TEST(EnvE2E, ThreadsOptionIsReported) {
  auto r = e2e::run_ptft({"env", "--json", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["threads"]["intra_op"].get<int>(), 1);
}

TEST(EnvE2E, PlainFormIsHumanTextOnStderr) {
  auto r = e2e::run_ptft({"env"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(r.out.empty()) << "stdout is reserved for --json output, got:\n" << r.out;
  EXPECT_TRUE(e2e::contains(r.err, "BLAS:")) << r.err;
  EXPECT_TRUE(e2e::contains(r.err, "threads:")) << r.err;
  EXPECT_TRUE(e2e::contains(r.err, "CUDA:")) << r.err;
  EXPECT_TRUE(e2e::contains(r.err, "data-parallel: gloo")) << r.err;
  EXPECT_TRUE(e2e::contains(r.err, "libtorch")) << r.err;
}

// OpenBLAS 0.3.21 runs its generic Prescott kernels on CPUs it does not know (core/blas_kernels.h).
// Started without OPENBLAS_CORETYPE, `ptft env` names the override compute commands restart with,
// and a training run records the kernels it really ran: never Prescott on a CPU with AVX2 + FMA.
// A user's OPENBLAS_CORETYPE is kept.
TEST(EnvE2E, ComputeCommandsRunOpenBlasFastKernels) {
  const e2e::Env unset = {{"OPENBLAS_CORETYPE", e2e::kUnset}};
  auto r = e2e::run_ptft({"env", "--json"}, {}, std::chrono::seconds(120), unset);
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto env = nlohmann::json::parse(r.out);
  if (env["blas"]["name"] != "OpenBLAS") GTEST_SKIP() << "the BLAS is " << env["blas"]["name"];
  const std::string features = env["cpu"]["features"].dump();
  const bool avx2 = e2e::contains(features, "\"avx2\"") && e2e::contains(features, "\"fma\"");
  const std::string kernels = env["blas"]["kernels"], override_core = env["blas"]["kernels_override"];
  if (kernels == "Prescott" && avx2) {
    EXPECT_FALSE(override_core.empty()) << env.dump(2);
  }
  if (kernels != "Prescott") {
    EXPECT_TRUE(override_core.empty()) << env.dump(2);
  }

  auto ran_with = [](const std::string& run) {
    return e2e::read_jsonl(run + "/metrics.jsonl").front()["env"]["blas"]["kernels"].get<std::string>();
  };
  e2e::TempDir tmp;
  auto a = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("a"), {"train.steps=2"}), {},
                         std::chrono::seconds(120), unset);
  ASSERT_EQ(a.exit_code, 0) << a.text();
  if (avx2) {
    EXPECT_NE(ran_with(tmp.path("a")), "Prescott");
  }
  if (!override_core.empty()) {
    EXPECT_EQ(ran_with(tmp.path("a")), override_core);
  }
  if (!avx2) return;
  auto b = e2e::run_ptft(e2e::spirals_args("pretrain", tmp.path("b"), {"train.steps=2"}), {},
                         std::chrono::seconds(120), {{"OPENBLAS_CORETYPE", "Haswell"}});
  ASSERT_EQ(b.exit_code, 0) << b.text();
  EXPECT_EQ(ran_with(tmp.path("b")), "Haswell");
}

TEST(CliE2E, UsageErrorsExitWithStatusOne) {
  auto none = e2e::run_ptft({});
  EXPECT_EQ(none.exit_code, 1) << none.text();

  auto unknown_cmd = e2e::run_ptft({"frobnicate"});
  EXPECT_EQ(unknown_cmd.exit_code, 1) << unknown_cmd.text();

  auto unknown_opt = e2e::run_ptft({"env", "--no-such-option"});
  EXPECT_EQ(unknown_opt.exit_code, 1) << unknown_opt.text();
  EXPECT_TRUE(e2e::contains(unknown_opt.err + unknown_opt.out, "--no-such-option")) << unknown_opt.text();
}

TEST(CliE2E, HelpAndVersionExitZero) {
  auto help = e2e::run_ptft({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.text();
  EXPECT_TRUE(e2e::contains(help.out, "pretrain")) << help.out;
  EXPECT_TRUE(e2e::contains(help.out, "finetune")) << help.out;

  auto version = e2e::run_ptft({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.text();
  EXPECT_TRUE(e2e::contains(version.out, std::string("ptft ") + PTFT_VERSION)) << version.out;
}

}  // namespace
