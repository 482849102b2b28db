// ptft launch --nproc N [--nnodes M --node-rank K --master-addr A --master-port P] [--grace S]
//             -- pretrain|finetune <options>
// Data-parallel training: N processes on this host with torchrun's environment (ptft/dist/launcher.h).
#include "commands.h"
#include "ptft/dist/launcher.h"

namespace ptft::cli {

Action add_launch(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "launch", "Data-parallel training: run a pretrain/finetune command in N processes (torchrun-style)");
  auto o = std::make_shared<LaunchOptions>();
  sub->add_option("--nproc", o->nproc, "processes on this host (one per GPU; on CPUs, a share of the cores each)")
      ->required();
  sub->add_option("--nnodes", o->nnodes, "hosts in the run (default 1)");
  sub->add_option("--node-rank", o->node_rank, "this host's index, 0 .. nnodes-1 (default 0)");
  sub->add_option("--master-addr", o->master_addr, "address of host 0, where rank 0 listens (default 127.0.0.1)");
  sub->add_option("--master-port", o->master_port, "rank 0's port (default: a free one; 29500 with several hosts)");
  sub->add_option("--grace", o->grace_s, "seconds the others get to stop after one process fails (default 30)");
  sub->add_option("command", o->command, "the training command after --: pretrain|finetune --config ...")
      ->required();
  sub->footer("example: ptft launch --nproc 2 -- pretrain --config configs/gpt-tiny-general.yaml --out runs/ddp");
  return [=, &app] {
    o->invoked_as = app.get_name();
    return launch_processes(*o);
  };
}

}  // namespace ptft::cli
