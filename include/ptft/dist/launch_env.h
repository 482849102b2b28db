// ptft/dist/launch_env.h — which data-parallel process this is, from the environment that
// torchrun, `ptft launch`, a Kubernetes PyTorchJob or Slurm sets.
//
// Variables (torchrun's contract): RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT. Without RANK/WORLD_SIZE, Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID are
// read (MASTER_ADDR must then be exported, e.g. the first host of the allocation). Neither: one
// process (world size 1). Bad values are UserErrors naming the variable.
//
// MASTER_ADDR is required when WORLD_SIZE > 1; MASTER_PORT defaults to 29500.
//
//   LaunchEnv env = read_launch_env();
//   if (env.distributed()) { ... join a process group at env.master_addr:env.master_port ... }
#pragma once

#include <functional>
#include <string>

namespace ptft {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;         // this process on its host: picks cuda:LOCAL_RANK
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";  // "torchrun" (RANK/WORLD_SIZE) | "slurm" | "none"
  bool distributed() const { return world_size > 1; }
  bool is_main() const { return rank == 0; }
};

// From the process environment.
LaunchEnv read_launch_env();
// From `get` (returns nullptr for unset variables); what read_launch_env uses, for tests.
LaunchEnv parse_launch_env(const std::function<const char*(const char*)>& get);

}  // namespace ptft
