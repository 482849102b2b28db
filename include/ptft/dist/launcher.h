// ptft/dist/launcher.h — `ptft launch`: data-parallel training on one host (or one node of
// several), torchrun-style. Starts nproc copies of a ptft training command with RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, and supervises them:
//   - SIGINT/SIGTERM/SIGHUP to the launcher go to every process (they checkpoint and stop at the
//     same step; a second SIGINT stops them at once). The processes run in their own process
//     group and get SIGTERM if the launcher dies.
//   - When one process fails, the others have grace_s to exit on their own (they notice the lost
//     peer within seconds and say so), then get SIGTERM, then SIGKILL.
//   - OMP_NUM_THREADS, when unset, becomes usable CPUs / nproc (processes do not oversubscribe).
//
//   LaunchOptions o;  o.nproc = 2;  o.command = {"pretrain", "--config", "c.yaml"};
//   int status = launch_processes(o);   // 0 when every process succeeded, else the first failure's
#pragma once

#include <string>
#include <vector>

namespace ptft {

struct LaunchOptions {
  int nproc = 1;                       // processes on this host
  int nnodes = 1;                      // hosts in the run
  int node_rank = 0;                   // this host's index: its ranks are node_rank * nproc + local
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                 // 0: a free port (one host), 29500 (several)
  double grace_s = 30;
  std::vector<std::string> command;    // a ptft training command: {"pretrain", "--config", ...}
  std::string program;                 // the ptft executable; empty = this one (/proc/self/exe)
  std::string invoked_as = "ptft";     // argv[0] as typed: the printed resume command uses it
  bool quiet = false;                  // no launcher messages (tests)
};

// Starts and supervises the processes; returns the exit status `ptft launch` exits with.
// Bad options are UserErrors.
int launch_processes(const LaunchOptions& options);

}  // namespace ptft
