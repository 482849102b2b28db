#include "slips.h"

#include <algorithm>
#include <map>

#include "ptft/core/config.h"

namespace ptft::cli {
namespace {

// Options people bring from other trainers, and the config key each one is.
const std::map<std::string, std::string>& setting_options() {
  static const std::map<std::string, std::string> m = {
      {"steps", "train.steps"},           {"max-steps", "train.steps"},         {"max_steps", "train.steps"},
      {"lr", "train.lr"},                 {"learning-rate", "train.lr"},        {"learning_rate", "train.lr"},
      {"batch-size", "train.batch_size"}, {"batch_size", "train.batch_size"},   {"batch", "train.batch_size"},
      {"warmup", "train.warmup"},         {"warmup-steps", "train.warmup"},     {"warmup_steps", "train.warmup"},
      {"weight-decay", "train.weight_decay"}, {"weight_decay", "train.weight_decay"},
      {"eval-every", "train.eval_every"}, {"eval_steps", "train.eval_every"},   {"save-every", "train.save_every"},
      {"save_steps", "train.save_every"}, {"strategy", "finetune.strategy"},   {"lora-r", "finetune.lora.r"},
      {"lora_r", "finetune.lora.r"},      {"lora-alpha", "finetune.lora.alpha"}, {"lora_alpha", "finetune.lora.alpha"},
  };
  return m;
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
    auto it = setting_options().find(name);
    if (it == setting_options().end()) continue;
    std::string value = eq != std::string::npos ? a.substr(eq + 1) : (i + 1 < args.size() ? args[i + 1] : "VALUE");
    return "error: --" + name + " is not an option of ptft " + args[0] + ": training settings are config keys\n  hint: use --set " +
           it->second + "=" + value + " (or write it in the config file; ptft " + args[0] + " --help-config lists the keys)";
  }
  return {};
}

}  // namespace

std::string explain_slip(const CLI::App& app, const std::vector<std::string>& args) {
  if (args.empty() || args[0].empty() || args[0][0] == '-') return {};
  if (app.get_subcommands([&](const CLI::App* s) { return s->get_name() == args[0]; }).empty())
    return misspelt_command(app, args[0]);
  if (args[0] == "pretrain" || args[0] == "finetune") {
    for (const std::string& a : args)
      if (a == "--epochs" || a.rfind("--epochs=", 0) == 0 || a == "--num_train_epochs" || a.rfind("--num_train_epochs=", 0) == 0)
        return "error: ptft counts training in steps, not epochs\n  hint: use --set train.steps=N (N = epochs x "
               "training examples / train.batch_size)";
    return setting_given_as_option(args);
  }
  if (args[0] == "launch" && std::find(args.begin(), args.end(), "--") == args.end())
    for (const std::string& a : args)
      if (a == "pretrain" || a == "finetune")
        return "error: ptft launch runs the command after a '--'\n  hint: ptft launch --nproc 2 -- " + a + " --config ...";
  return {};
}

}  // namespace ptft::cli
