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
  // Each command, and whether its time goes into matrix products: those get OpenBLAS's fast kernels
  // where it did not recognise the CPU (core/blas_kernels.h); launch hands them to its processes.
  enum class Blas { light, computes, spawns };
  struct Command {
    std::string name;
    ptft::cli::Action action;
    Blas blas;
  };
  const std::vector<Command> commands = {
      {"env", ptft::cli::add_env(app), Blas::light},
      {"pretrain", ptft::cli::add_train(app, "pretrain"), Blas::computes},
      {"finetune", ptft::cli::add_train(app, "finetune"), Blas::computes},
      {"data", ptft::cli::add_data(app), Blas::light},
      {"tokenizer", ptft::cli::add_tokenizer(app), Blas::light},
      {"export", ptft::cli::add_export(app), Blas::light},
      {"eval", ptft::cli::add_eval(app), Blas::computes},
      {"predict", ptft::cli::add_predict(app), Blas::computes},
      {"detect", ptft::cli::add_detect(app), Blas::computes},
      {"generate", ptft::cli::add_generate(app), Blas::computes},
      {"chat", ptft::cli::add_chat(app), Blas::computes},
      {"serve", ptft::cli::add_serve(app), Blas::computes},
      {"launch", ptft::cli::add_launch(app), Blas::spawns},
      {"report", ptft::cli::add_report(app), Blas::light},
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
  try {
    for (const Command& c : commands) {
      if (!app.get_subcommand(c.name)->parsed()) continue;
      if (c.blas == Blas::computes) ptft::restart_with_blas_kernels(argv);  // returns when not needed
      if (c.blas == Blas::spawns) ptft::export_blas_kernels();
      return c.action();
    }
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
