// ptft pretrain --config FILE.yaml [--set key=value]... [--out RUN_DIR] [--resume]
// ptft finetune --config FILE.yaml --from CKPT [--set key=value]... [--out RUN_DIR] [--resume]
// Exit status: 0 done, 1 bad input, 130 / 143 stopped by SIGINT / SIGTERM (checkpoint written).
#include <iostream>

#include "commands.h"
#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/signals.h"
#include "ptft/models/model.h"
#include "ptft/run/run.h"
#include "ptft/run/run_config.h"

namespace ptft::cli {
namespace {

// The model.* keys of each family: those of a model the family builds (its registry's tiny
// architecture), as config.yaml writes them.
std::string family_keys() {
  std::string out = "model.* keys by model.family (defaults: docs/config.md, \"Models\"; presets: configs/models/):\n";
  for (const ModelFamily& f : model_families()) {
    if (f.tiny_architecture.empty()) continue;
    config::Document doc = config::Document::empty();
    doc.set("model=" + f.tiny_architecture);
    doc.set("model.family=" + f.name);
    std::string keys;
    for (const auto& kv : f.from_run_config(doc, "model")->config_yaml())
      if (kv.first.as<std::string>() != "family") keys += (keys.empty() ? "" : ", ") + kv.first.as<std::string>();
    out += "  " + f.name + ": " + keys + "\n";
  }
  return out;
}

}  // namespace

Action add_train(CLI::App& app, const std::string& name) {
  const bool finetune = name == "finetune";
  auto* sub = app.add_subcommand(
      name, finetune ? "Fine-tune a checkpoint on (small) domain data" : "Train a model from scratch on general data");
  auto req = std::make_shared<RunRequest>();
  auto device = std::make_shared<std::string>();
  auto precision = std::make_shared<std::string>();
  auto threads = std::make_shared<std::string>();
  auto seed = std::make_shared<std::string>();
  auto help_config = std::make_shared<bool>(false);
  req->command = name;
  sub->add_option("--config", req->config_path, "run configuration (YAML); see configs/");
  sub->add_option("--set", req->sets, "override a config key: --set train.lr=1e-3 (repeatable)");
  sub->add_option("--out", req->out, "run directory (default: runs/<config name>)");
  // Required, but checked below: --help-config lists the keys without one.
  if (finetune) sub->add_option("--from", req->from, "checkpoint to start from (run or checkpoint directory, Hugging Face directory, GGUF file); required");
  sub->add_flag("--resume", req->resume, "continue the run in --out from its last checkpoint");
  sub->add_option("--device", *device, "auto | cpu | cuda | cuda:N (= --set train.device=...)");
  sub->add_option("--precision", *precision, "auto | fp32 | bf16 (= --set train.precision=...)");
  sub->add_option("--threads", *threads, "intra-op threads (= --set train.threads=...)");
  sub->add_option("--seed", *seed, "random seed (= --set train.seed=...)");
  sub->add_flag("--quiet", req->quiet, "no progress output");
  sub->add_flag("--help-config", *help_config, "list every config key with its default and exit");
  return [=, &app] {
    if (*help_config) {
      std::cout << config::describe(RunConfig{}) << "\n" << family_keys() << std::flush;
      return 0;
    }
    // A resumed fine-tune takes finetune.from from its config (RUN_DIR/config.yaml has it).
    if (finetune && req->from.empty() && !req->resume)
      throw UserError("--from is required", "name the model to fine-tune: ptft finetune --config F.yaml --from runs/general");
    req->program = app.get_name();  // argv[0] as typed: the printed resume command runs as is
    if (!device->empty()) req->sets.push_back("train.device=" + *device);
    if (!precision->empty()) req->sets.push_back("train.precision=" + *precision);
    if (!threads->empty()) req->sets.push_back("train.threads=" + *threads);
    if (!seed->empty()) req->sets.push_back("train.seed=" + *seed);
    const RunOutcome out = run_training(*req);
    // Interrupted (checkpoint written): the shell's status for the signal, so that
    // `ptft pretrain ... && ptft finetune ...` stops there.
    return out.fit.interrupted ? 128 + (StopSignals::signal() ? StopSignals::signal() : 2) : 0;
  };
}

}  // namespace ptft::cli
