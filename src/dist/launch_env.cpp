#include "ptft/dist/launch_env.h"

#include <cerrno>
#include <cstdlib>

#include "ptft/core/error.h"

namespace ptft {
namespace {

int parse_int(const std::function<const char*(const char*)>& get, const char* name, int lo, int hi,
              const std::string& what) {
  const char* v = get(name);
  errno = 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || n < lo || n > hi)
    throw UserError("environment variable " + std::string(name) + "='" + v + "' is not " + what,
                    "set " + std::string(name) + " to an integer in [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "], or unset it to train in one process");
  return static_cast<int>(n);
}

}  // namespace

LaunchEnv parse_launch_env(const std::function<const char*(const char*)>& get) {
  LaunchEnv env;
  const bool torchrun = get("RANK") || get("WORLD_SIZE");
  const bool slurm = !torchrun && get("SLURM_PROCID") && get("SLURM_NTASKS");
  if (!torchrun && !slurm) return env;
  const char* rank_var = torchrun ? "RANK" : "SLURM_PROCID";
  const char* world_var = torchrun ? "WORLD_SIZE" : "SLURM_NTASKS";
  const char* local_var = torchrun ? "LOCAL_RANK" : "SLURM_LOCALID";
  const char* local_world_var = torchrun ? "LOCAL_WORLD_SIZE" : "SLURM_NTASKS_PER_NODE";
  if (!get(rank_var) || !get(world_var))
    throw UserError(std::string(get(rank_var) ? world_var : rank_var) + " is not set but " +
                        (get(rank_var) ? rank_var : world_var) + " is",
                    "a data-parallel process needs both RANK and WORLD_SIZE (and MASTER_ADDR, MASTER_PORT); "
                    "start the processes with `ptft launch --nproc N -- <command>` or torchrun");
  env.source = torchrun ? "torchrun" : "slurm";
  env.world_size = parse_int(get, world_var, 1, 1 << 20, "a world size (a positive integer)");
  env.rank = parse_int(get, rank_var, 0, env.world_size - 1,
                       "a rank below " + std::string(world_var) + "=" + std::to_string(env.world_size));
  env.local_rank = get(local_var) ? parse_int(get, local_var, 0, env.world_size - 1, "a local rank") : env.rank;
  // Slurm writes SLURM_NTASKS_PER_NODE as e.g. "4(x2)" on uneven allocations; only its count matters.
  if (get(local_world_var) && std::string(get(local_world_var)).find('(') == std::string::npos)
    env.local_world_size = parse_int(get, local_world_var, 1, env.world_size, "a local world size");
  else
    env.local_world_size = env.world_size;
  if (!env.distributed()) return env;
  if (const char* addr = get("MASTER_ADDR")) {
    if (*addr == '\0')
      throw UserError("environment variable MASTER_ADDR is empty", "set it to the host name or address of rank 0");
    env.master_addr = addr;
  } else {
    throw UserError(std::string(world_var) + "=" + std::to_string(env.world_size) + " but MASTER_ADDR is not set",
                    slurm ? "export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1) "
                            "(and MASTER_PORT) before srun"
                          : "set MASTER_ADDR (and MASTER_PORT) to where rank 0 listens, or start the processes "
                            "with `ptft launch --nproc N -- <command>`");
  }
  if (get("MASTER_PORT")) env.master_port = parse_int(get, "MASTER_PORT", 1, 65535, "a TCP port");
  return env;
}

LaunchEnv read_launch_env() {
  return parse_launch_env([](const char* name) { return std::getenv(name); });
}

}  // namespace ptft
