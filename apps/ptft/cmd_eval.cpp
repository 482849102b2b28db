// ptft eval --model CKPT --data FILE|SHARD_DIR [--split val] [--batch-size 8] [--json] [--threads N]
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ptft/core/device.h"
#include "ptft/eval/lm_eval.h"
#include "ptft/infer/pretrained.h"

namespace ptft::cli {

Action add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Measure a language model's loss and perplexity on a text file or token shards");
  auto model = std::make_shared<std::string>();
  auto o = std::make_shared<LmEvalOptions>();
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  sub->add_option("--model", *model, "checkpoint directory, run directory or Hugging Face GPT-2 directory")->required();
  sub->add_option("--data", o->data, "a text file, or a token shard directory made by `ptft data prepare`")->required();
  sub->add_option("--split", o->split, "split of a shard directory: train | val")->capture_default_str();
  sub->add_option("--batch-size", o->batch_size, "windows per forward pass")->capture_default_str();
  sub->add_option("--max-tokens", o->max_tokens,
                  "shards: evaluate only the split's first windows, about this many tokens (0 = all)")
      ->capture_default_str();
  sub->add_flag("--json", *json, "print {\"loss\", \"perplexity\", \"tokens\"} on stdout");
  sub->add_option("--threads", *threads, "intra-op threads (0 = all cores)")->capture_default_str();
  return [=] {
    o->validate();
    set_threads(*threads);
    const Pretrained p = load_pretrained(*model, {/*require_tokenizer=*/false});
    const nlohmann::json m = evaluate_lm(*p.model, p.tokenizer, *o);
    if (*json) {
      std::cout << nlohmann::json{{"loss", m.at("loss")}, {"perplexity", m.at("perplexity")}, {"tokens", m.at("tokens")}}.dump()
                << std::endl;
    } else {
      char line[160];
      std::snprintf(line, sizeof line, "loss %.4f  perplexity %.3f  (%lld tokens)", m.at("loss").get<double>(),
                    m.at("perplexity").get<double>(), static_cast<long long>(m.at("tokens").get<int64_t>()));
      std::cout << line << std::endl;
    }
    return 0;
  };
}

}  // namespace ptft::cli
