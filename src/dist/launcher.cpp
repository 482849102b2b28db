#include "ptft/dist/launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>

#include "ptft/core/device.h"
#include "ptft/core/error.h"
#include "ptft/core/shell.h"
#include "ptft/core/tcp_port.h"

extern char** environ;

namespace ptft {
namespace {

std::atomic<int> g_forward{0};  // the last signal the launcher got, to pass on

extern "C" void on_launcher_signal(int sig) { g_forward.store(sig); }

void install_forwarding() {
  struct sigaction sa {};
  sa.sa_handler = on_launcher_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR and the signal is passed on at once
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "stopped (status " + std::to_string(status) + ")";
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int launch_processes(const LaunchOptions& o) {
  if (o.nproc < 1) throw UserError("--nproc must be >= 1, got " + std::to_string(o.nproc), "");
  if (o.nnodes < 1) throw UserError("--nnodes must be >= 1, got " + std::to_string(o.nnodes), "");
  if (o.node_rank < 0 || o.node_rank >= o.nnodes)
    throw UserError("--node-rank " + std::to_string(o.node_rank) + " is not below --nnodes " + std::to_string(o.nnodes),
                    "number the hosts 0 .. nnodes-1; host 0 runs rank 0 and listens on MASTER_ADDR:MASTER_PORT");
  std::vector<std::string> cmd = o.command;
  // `ptft launch -- ptft pretrain ...` and `-- pretrain ...` mean the same.
  if (!cmd.empty() && (cmd[0] == "ptft" || (cmd[0].size() > 5 && cmd[0].substr(cmd[0].size() - 5) == "/ptft")))
    cmd.erase(cmd.begin());
  if (cmd.empty() || (cmd[0] != "pretrain" && cmd[0] != "finetune"))
    throw UserError("ptft launch runs a training command, got '" + (cmd.empty() ? std::string() : cmd[0]) + "'",
                    "usage: ptft launch --nproc N -- pretrain|finetune --config FILE.yaml [options]");
  if (o.nnodes > 1 && (o.master_addr == "127.0.0.1" || o.master_addr == "localhost"))
    throw UserError("--nnodes " + std::to_string(o.nnodes) + " needs --master-addr: the address of host 0 that "
                    "every host reaches", "e.g. --master-addr 10.0.0.1 --master-port 29500 on every host");
  const int world = o.nproc * o.nnodes;
  const int port = o.master_port > 0 ? o.master_port : o.nnodes == 1 ? free_tcp_port(o.master_addr) : 29500;
  const std::string program = o.program.empty() ? "/proc/self/exe" : o.program;

  std::string launcher = shell_quote(o.invoked_as) + " launch --nproc " + std::to_string(o.nproc);
  if (o.nnodes > 1)
    launcher += " --nnodes " + std::to_string(o.nnodes) + " --node-rank " + std::to_string(o.node_rank) +
                " --master-addr " + o.master_addr + " --master-port " + std::to_string(port);
  std::map<std::string, std::string> common = {{"WORLD_SIZE", std::to_string(world)},
                                               {"LOCAL_WORLD_SIZE", std::to_string(o.nproc)},
                                               {"MASTER_ADDR", o.master_addr},
                                               {"MASTER_PORT", std::to_string(port)},
                                               {"PTFT_LAUNCHER", launcher}};
  std::string threads_note;
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    const int threads = std::max(1, available_cpus() / o.nproc);
    common["OMP_NUM_THREADS"] = std::to_string(threads);
    threads_note = ", OMP_NUM_THREADS=" + std::to_string(threads) + " each";
  }
  if (!o.quiet)
    std::cerr << "ptft launch: " << o.nproc << " process" << (o.nproc > 1 ? "es" : "") << " (ranks "
              << o.node_rank * o.nproc << "-" << (o.node_rank + 1) * o.nproc - 1 << " of " << world << "), rendezvous "
              << o.master_addr << ":" << port << threads_note << std::endl;

  install_forwarding();
  std::map<pid_t, int> alive;  // pid -> rank
  for (int local = 0; local < o.nproc; ++local) {
    const int rank = o.node_rank * o.nproc + local;
    std::map<std::string, std::string> vars = common;
    vars["RANK"] = std::to_string(rank);
    vars["LOCAL_RANK"] = std::to_string(local);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      if (!vars.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string argv0 = "ptft";
    argv.push_back(argv0.data());
    for (auto& a : cmd) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw UserError(std::string("cannot start a process: ") + std::strerror(errno), "");
    if (pid == 0) {
      ::setpgid(0, 0);                 // signals reach it through the launcher only
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      ::execve(program.c_str(), argv.data(), envp.data());
      const std::string msg = "ptft launch: cannot run '" + program + "': " + std::strerror(errno) + "\n";
      (void)!::write(2, msg.data(), msg.size());
      ::_exit(127);
    }
    alive[pid] = rank;
  }

  using clock = std::chrono::steady_clock;
  int first_status = 0, first_rank = -1;
  int forwarded = 0, stop_code = 0;  // a signal passed on; 128 + it once the ranks stopped for it
  clock::time_point deadline{}, kill_at{};
  bool terminated = false;
  while (!alive.empty()) {
    if (const int sig = g_forward.exchange(0)) {
      forwarded = sig;
      for (const auto& [pid, rank] : alive) ::kill(pid, sig);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, first_rank >= 0 ? WNOHANG : 0);
    if (pid > 0) {
      const int rank = alive.count(pid) ? alive[pid] : -1;
      alive.erase(pid);
      // A rank that stopped for the signal passed on (checkpoint written) exits 128 + signal.
      const bool stopped = forwarded && WIFEXITED(status) && WEXITSTATUS(status) == 128 + forwarded;
      if (stopped) stop_code = WEXITSTATUS(status);
      const bool failed = !stopped && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (failed && first_rank < 0) {
        first_rank = rank;
        first_status = status;
        deadline = clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.grace_s * 1000));
        if (!o.quiet && !alive.empty())
          std::cerr << "ptft launch: rank " << rank << " " << describe_status(status) << "; waiting up to " << o.grace_s
                    << " s for the other " << alive.size() << " to stop" << std::endl;
      } else if (failed && !o.quiet) {
        std::cerr << "ptft launch: rank " << rank << " " << describe_status(status) << std::endl;
      }
      continue;
    }
    if (pid < 0 && errno != EINTR && errno != ECHILD) break;
    if (pid < 0 && errno == ECHILD) break;
    if (first_rank >= 0) {
      const auto now = clock::now();
      if (!terminated && now >= deadline) {
        if (!o.quiet) std::cerr << "ptft launch: stopping the remaining " << alive.size() << " (SIGTERM)" << std::endl;
        for (const auto& [p, r] : alive) ::kill(p, SIGTERM);
        terminated = true;
        kill_at = now + std::chrono::seconds(10);
      } else if (terminated && now >= kill_at) {
        for (const auto& [p, r] : alive) ::kill(p, SIGKILL);
        kill_at = now + std::chrono::hours(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (first_rank < 0) return stop_code;
  if (!o.quiet)
    std::cerr << "ptft launch: failed: rank " << first_rank << " " << describe_status(first_status)
              << " (its error is above); resume with: " << launcher << " -- <the same command> --resume" << std::endl;
  return exit_code_of(first_status);
}

}  // namespace ptft
