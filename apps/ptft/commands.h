// apps/ptft/commands.h — each sub-command registers itself on the CLI11 app and returns the
// action to run when it was selected. Actions return the exit status; errors are thrown and
// reported by main (ptft::UserError -> 1, anything else -> 2).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace ptft::cli {

using Action = std::function<int()>;

Action add_env(CLI::App& app);
Action add_train(CLI::App& app, const std::string& name);  // pretrain | finetune
Action add_data(CLI::App& app);                             // data prepare
Action add_tokenizer(CLI::App& app);                        // tokenizer train | encode | decode
Action add_export(CLI::App& app);                           // export --format hf
Action add_generate(CLI::App& app);                         // generate
Action add_chat(CLI::App& app);                             // chat
Action add_serve(CLI::App& app);                            // serve (OpenAI-compatible HTTP API)
Action add_eval(CLI::App& app);                             // eval
Action add_predict(CLI::App& app);                          // predict (image classifiers)
Action add_detect(CLI::App& app);                           // detect (object detectors)
Action add_launch(CLI::App& app);                           // launch (data-parallel processes)
Action add_report(CLI::App& app);                           // report (HTML page about run directories)

}  // namespace ptft::cli
