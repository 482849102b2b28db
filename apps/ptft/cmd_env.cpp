// ptft env [--json]: versions, the BLAS actually loaded, threads, CPU features, devices.
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "ptft/core/device.h"
#include "ptft/core/env.h"
#include "ptft/dist/launch_env.h"
#include "ptft/dist/process_group.h"

namespace ptft::cli {

Action add_env(CLI::App& app) {
  auto* sub = app.add_subcommand("env", "Show libtorch, BLAS, threads, CPU features and devices");
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  sub->add_flag("--json", *json, "print one JSON object on stdout");
  sub->add_option("--threads", *threads, "intra-op threads to set before reporting (0 = default)")
      ->capture_default_str();
  return [json, threads] {
    set_threads(*threads);
    // Touch a matmul so that lazily loaded BLAS/OpenMP libraries are mapped and initialised.
    (void)torch::mm(torch::ones({8, 8}), torch::ones({8, 8}));
    EnvInfo env = collect_env();
    // Data-parallel training (ptft launch): the c10d backends built in, and this process's rank.
    const std::vector<std::string> backends = ProcessGroup::backends();
    const LaunchEnv launch = read_launch_env();
    if (*json) {
      nlohmann::json j = env_json(env);
      j["distributed"] = {{"backends", backends}, {"rank", launch.rank}, {"world_size", launch.world_size}};
      std::cout << j.dump(2) << std::endl;
    } else {
      std::string list;
      for (const auto& b : backends) list += (list.empty() ? "" : ", ") + b;
      std::cerr << env_text(env) << "data-parallel: " << (list.empty() ? "no c10d backend built in" : list)
                << " | rank " << launch.rank << " of " << launch.world_size << "\n";
    }
    return 0;
  };
}

}  // namespace ptft::cli
