// ptft report RUN_DIR... --out FILE.html [--no-samples] [--sample-tokens N] [--title TEXT]
// One self-contained HTML page (inline SVG charts, no scripts, nothing loaded from the network)
// about one or more runs: a comparison table, loss / LR / throughput / evaluation curves
// overlaid, events, confusion matrices, detection tables, sample generations of GPT runs.
#include <iostream>
#include <memory>

#include "commands.h"
#include "ptft/core/device.h"
#include "ptft/report/html_report.h"

namespace ptft::cli {

Action add_report(CLI::App& app) {
  auto* sub = app.add_subcommand("report", "Write one self-contained HTML page with the curves, events and results "
                                           "of one or more run directories");
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto o = std::make_shared<report::ReportOptions>();
  auto no_samples = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(1);
  sub->add_option("runs", *dirs, "run directories (the --out of ptft pretrain / finetune)")->required();
  sub->add_option("--out", *out, "the HTML file to write (replaced atomically)")->required();
  sub->add_option("--title", o->title, "page title (default: the run names)");
  sub->add_flag("--no-samples", *no_samples, "no sample generation of GPT runs (which loads each run's model)");
  sub->add_option("--sample-tokens", o->sample_tokens, "new tokens of a GPT run's greedy sample")->capture_default_str();
  sub->add_option("--threads", *threads, "intra-op threads of the sample generation (0 = all cores)")
      ->capture_default_str();
  return [=] {
    set_threads(*threads);
    o->samples = !*no_samples;
    report::write_report(*dirs, *out, *o);
    std::cout << "wrote " << *out << std::endl;
    return 0;
  };
}

}  // namespace ptft::cli
