// ptft — pre-train, fine-tune. Thin front end: parse the command line, call the library,
// turn errors into messages and exit codes (0 ok, 1 user error, 2 internal error).
#include <c10/util/Exception.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "slips.h"
#include "ptft/core/blas_kernels.h"
#include "ptft/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"ptft: pre-train a model on general data, fine-tune it on domain data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ptft ") + PTFT_VERSION);
  std::vector<std::pair<std::string, ptft::cli::Action>> actions = {
      {"env", ptft::cli::add_env(app)},
      {"pretrain", ptft::cli::add_train(app, "pretrain")},
      {"finetune", ptft::cli::add_train(app, "finetune")},
      {"data", ptft::cli::add_data(app)},
      {"tokenizer", ptft::cli::add_tokenizer(app)},
      {"export", ptft::cli::add_export(app)},
      {"eval", ptft::cli::add_eval(app)},
      {"predict", ptft::cli::add_predict(app)},
      {"detect", ptft::cli::add_detect(app)},
      {"generate", ptft::cli::add_generate(app)},
      {"chat", ptft::cli::add_chat(app)},
      {"serve", ptft::cli::add_serve(app)},
      {"launch", ptft::cli::add_launch(app)},
      {"report", ptft::cli::add_report(app)},
  };
  // A data-parallel process names itself in its errors (several print into one terminal).
  std::string who;
  if (const char* rank = std::getenv("RANK"); rank && std::getenv("WORLD_SIZE") &&
                                               std::string(std::getenv("WORLD_SIZE")) != "1")
    who = " (rank " + std::string(rank) + ")";
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {  // not --help / --version
      const std::string slip = ptft::cli::explain_slip(app, std::vector<std::string>(argv + 1, argv + argc));
      if (!slip.empty()) {
        std::cerr << slip << std::endl;
        return 1;
      }
    }
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  // The docs test (tests/e2e/docs_commands_test.cpp) checks that every command line the docs
  // quote parses, without running it.
  if (std::getenv("PTFT_PARSE_ONLY")) return 0;
  // Commands whose time goes into matrix products get OpenBLAS's fast kernels where it did not
  // recognise the CPU (core/blas_kernels.h); launch hands them to its processes.
  for (const char* heavy : {"pretrain", "finetune", "eval", "predict", "detect", "generate", "chat", "serve"})
    if (app.get_subcommand(heavy)->parsed()) ptft::restart_with_blas_kernels(argv);
  if (app.get_subcommand("launch")->parsed()) ptft::export_blas_kernels();
  try {
    for (auto& [name, action] : actions)
      if (app.get_subcommand(name)->parsed()) return action();
    return 1;
  } catch (const ptft::Error& e) {
    std::cerr << (e.exit_code() == 1 ? "error" : "internal error") << who << ": " << e.full() << std::endl;
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::cerr << "internal error (libtorch)" << who << ": " << e.what_without_backtrace() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "internal error" << who << ": " << e.what() << std::endl;
    return 2;
  }
}
