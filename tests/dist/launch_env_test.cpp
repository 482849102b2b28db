// The launch environment: torchrun's variables, Slurm's, none; bad values name the variable.
#include "ptft/dist/launch_env.h"

#include <gtest/gtest.h>

#include <map>

#include "../common/user_error.h"

namespace ptft {
namespace {

LaunchEnv parse(const std::map<std::string, std::string>& vars) {
  return parse_launch_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}
std::string error_of(const std::map<std::string, std::string>& vars) {
  return test::user_error([&] { parse(vars); });
}

TEST(LaunchEnv, NoVariablesIsOneProcess) {
  const LaunchEnv e = parse({});
  EXPECT_EQ(e.world_size, 1);
  EXPECT_EQ(e.rank, 0);
  EXPECT_FALSE(e.distributed());
  EXPECT_TRUE(e.is_main());
  EXPECT_EQ(e.source, "none");
}

TEST(LaunchEnv, TorchrunVariables) {
  const LaunchEnv e = parse({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                             {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "29400"}});
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.1");
  EXPECT_EQ(e.master_port, 29400);
  EXPECT_EQ(e.source, "torchrun");
  EXPECT_TRUE(e.distributed());
  EXPECT_FALSE(e.is_main());
}

TEST(LaunchEnv, DefaultsLocalRankToRankAndPortTo29500) {
  const LaunchEnv e = parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h0"}});
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.master_port, 29500);
}

TEST(LaunchEnv, WorldSizeOneNeedsNoMaster) {
  const LaunchEnv e = parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  EXPECT_FALSE(e.distributed());
}

TEST(LaunchEnv, SlurmVariablesWhenTorchrunsAreAbsent) {
  const LaunchEnv e = parse({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                             {"SLURM_NTASKS_PER_NODE", "4"}, {"MASTER_ADDR", "node01"}});
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 4);
  // "4(x2)": Slurm's notation for uneven allocations.
  EXPECT_EQ(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "8"}, {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                   {"MASTER_ADDR", "n"}}).local_world_size, 8);
  // torchrun's variables win inside a Slurm job (torchrun started by srun).
  EXPECT_EQ(parse({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"RANK", "1"}, {"WORLD_SIZE", "2"},
                   {"MASTER_ADDR", "n"}}).rank, 1);
  const std::string err = error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}});
  EXPECT_NE(err.find("SLURM_NTASKS=2 but MASTER_ADDR is not set"), std::string::npos) << err;
  EXPECT_NE(err.find("scontrol show hostnames"), std::string::npos) << err;
}

TEST(LaunchEnv, BadValuesNameTheVariableAndTheFix) {
  struct Case {
    std::map<std::string, std::string> vars;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{{"WORLD_SIZE", "2"}}, "RANK is not set but WORLD_SIZE is"},
      {{{"RANK", "0"}}, "WORLD_SIZE is not set but RANK is"},
      {{{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "RANK='x' is not a rank below WORLD_SIZE=2"},
      {{{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "RANK='2' is not a rank below WORLD_SIZE=2"},
      {{{"RANK", "-1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "RANK='-1'"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "0"}}, "WORLD_SIZE='0' is not a world size"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2 "}}, "WORLD_SIZE='2 '"},
      {{{"RANK", "0"}, {"WORLD_SIZE", ""}}, "WORLD_SIZE=''"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}}, "WORLD_SIZE=2 but MASTER_ADDR is not set"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", ""}}, "MASTER_ADDR is empty"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "0"}}, "MASTER_PORT='0' is not a TCP port"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"LOCAL_RANK", "9"}}, "LOCAL_RANK='9'"},
  };
  for (const auto& c : cases) {
    const std::string err = error_of(c.vars);
    EXPECT_NE(err.find(c.message), std::string::npos) << "want: " << c.message << "\ngot: " << err;
  }
}

}  // namespace
}  // namespace ptft
