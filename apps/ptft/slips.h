// slips.h — what to say when a command line fails to parse because of a slip newcomers make
// (docs/cli.md): a misspelt command ("pretrian" -> pretrain; "train" -> pretrain or finetune), a
// training setting given as an option ("--steps 10" -> --set train.steps=10, also the names
// Hugging Face and other trainers use: --lr, --learning_rate, --epochs, --batch_size ...), or
// `launch` without the "--" before the command it runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ptft::cli {

// The message (error line + hint) for the slip in `args` (argv without the program), or "" when
// the parse error is none of these (CLI11's own message is then right).
std::string explain_slip(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace ptft::cli
