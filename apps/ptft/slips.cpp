#include "slips.h"

#include <algorithm>
#include <map>

#include "ptft/core/config.h"
#include "ptft/core/foreign_keys.h"

namespace ptft::cli {
namespace {

// Training settings given as options: ptft's own short names, and (core/foreign_keys.h) the
// names other trainers use. The config key, or "".
std::string setting_key(const std::string& option) {
  static const std::map<std::string, std::string> own = {
      {"steps", "train.steps"},       {"lr", "train.lr"},
      {"warmup", "train.warmup"},     {"eval-every", "train.eval_every"},
      {"save-every", "train.save_every"}, {"strategy", "finetune.strategy"},
      {"batch-size", "train.batch_size"}, {"grad-accum", "train.grad_accum"},
  };
  if (const auto it = own.find(option); it != own.end()) return it->second;
  const ForeignKey* f = foreign_key(option);
  return f ? f->key : "";
}

std::string misspelt_command(const CLI::App& app, const std::string& word) {
  if (word == "train" || word == "fit")
    return "error: ptft has no command '" + word + "'\n  hint: ptft pretrain trains from scratch, ptft finetune from a "
           "checkpoint (--from): ptft pretrain --config configs/gpt-tiny-general.yaml";
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  const std::string near = config::nearest(word, names);
  return "error: ptft has no command '" + word + "'\n  hint: " + (near.empty() ? "" : "did you mean '" + near + "'? ") +
         "commands: " + config::list_names(names) + " (ptft --help)";
}

// "--steps 10" / "--steps=10" in a training command: the config key and value it means.
std::string setting_given_as_option(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.rfind("--", 0) != 0) continue;
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string key = setting_key(name);
    if (key.empty()) continue;
    std::string value = eq != std::string::npos ? a.substr(eq + 1) : (i + 1 < args.size() ? args[i + 1] : "VALUE");
    return "error: --" + name + " is not an option of ptft " + args[0] + ": training settings are config keys\n  hint: use --set " +
           key + "=" + value + " (or write it in the config file; ptft " + args[0] + " --help-config lists the keys)";
  }
  return {};
}

}  // namespace

std::string explain_slip(const CLI::App& app, const std::vector<std::string>& args) {
  if (args.empty() || args[0].empty() || args[0][0] == '-') return {};
  if (app.get_subcommands([&](const CLI::App* s) { return s->get_name() == args[0]; }).empty())
    return misspelt_command(app, args[0]);
  if (args[0] == "pretrain" || args[0] == "finetune") return setting_given_as_option(args);
  if (args[0] == "launch" && std::find(args.begin(), args.end(), "--") == args.end())
    for (const std::string& a : args)
      if (a == "pretrain" || a == "finetune")
        return "error: ptft launch runs the command after a '--'\n  hint: ptft launch --nproc 2 -- " + a + " --config ...";
  return {};
}

}  // namespace ptft::cli
