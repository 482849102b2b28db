// ptft data prepare --tokenizer DIR --input P... --out DIR [--val-fraction F] [--format auto|text|jsonl]
//                   [--field text] [--split-documents file|blank-lines] [--threads N]
//                   [--shard-tokens N] [--force] [--json] [--quiet]
// ptft data synth-detection --out DIR [--source IDX] [--classes A,B...] [--train N] [--val N] [--size S]
//                   [--min-objects N] [--max-objects N] [--min-scale X] [--max-scale X] [--negatives F] [--seed S]
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "ptft/core/signals.h"
#include "ptft/data/synth_detection.h"
#include "ptft/data/text_prepare.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft::cli {

Action add_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Prepare training data (text corpora -> token shards; synthetic detection scenes)");
  data->require_subcommand(1);
  auto* prep = data->add_subcommand(
      "prepare", "Tokenize text files, directories, globs, .gz and JSONL into train/val token shards");
  auto opt = std::make_shared<PrepareOptions>();
  auto tokenizer_dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  prep->add_option("--tokenizer", *tokenizer_dir, "tokenizer directory (ptft tokenizer train, or a HF model dir)")
      ->required();
  prep->add_option("--input", opt->inputs, "text/JSONL files (.gz ok), directories (recursive), glob patterns")
      ->required();
  prep->add_option("--out", opt->out, "output directory (new, or empty; see --force)")->required();
  prep->add_option("--val-fraction", opt->val_fraction, "share of documents that go to val (by a hash of the text)")
      ->capture_default_str();
  prep->add_option("--format", opt->format, "input format; auto: *.jsonl[.gz] and *.ndjson are JSONL")
      ->check(CLI::IsMember({"auto", "text", "jsonl"}))
      ->capture_default_str();
  prep->add_option("--field", opt->field, "JSONL field holding the text")->capture_default_str();
  prep->add_option("--split-documents", opt->split_documents,
                   "text documents: one per file, or one per block of lines between blank lines")
      ->check(CLI::IsMember({"file", "blank-lines"}))
      ->capture_default_str();
  prep->add_option("--threads", opt->threads, "tokenizer threads (0 = one per core)")->capture_default_str();
  prep->add_option("--shard-tokens", opt->shard_tokens, "tokens per shard file at most")->capture_default_str();
  prep->add_flag("--force", opt->force, "replace --out if it exists and is not empty");
  prep->add_flag("--json", *json, "print the summary (meta.json + timing) as one JSON object on stdout");
  prep->add_flag("--quiet", *quiet, "no progress or summary on stderr");

  auto* synth = data->add_subcommand(
      "synth-detection", "Write synthetic detection scenes (Fashion-MNIST items on textured backgrounds) in the "
                         "Ultralytics layout: data.yaml, images/{train,val}, labels/{train,val}");
  auto so = std::make_shared<SynthDetectionOptions>();
  synth->add_option("--out", so->out, "output directory (new, or empty)")->required();
  synth->add_option("--source", so->source, "IDX images file whose items are placed (its labels file next to it)")
      ->capture_default_str();
  synth->add_option("--classes", so->classes, "source classes to place, in output id order (default: all)")->delimiter(',');
  synth->add_option("--train", so->train, "train scenes")->capture_default_str();
  synth->add_option("--val", so->val, "val scenes")->capture_default_str();
  synth->add_option("--size", so->size, "scene side in pixels")->capture_default_str();
  synth->add_option("--min-objects", so->min_objects, "items per scene, at least")->capture_default_str();
  synth->add_option("--max-objects", so->max_objects, "items per scene, at most")->capture_default_str();
  synth->add_option("--min-scale", so->min_scale, "smallest item scale (x the source image side)")->capture_default_str();
  synth->add_option("--max-scale", so->max_scale, "largest item scale")->capture_default_str();
  synth->add_option("--negatives", so->negatives, "share of scenes without items")->capture_default_str();
  synth->add_option("--seed", so->seed, "scenes are a pure function of the seed")->capture_default_str();

  return [=] {
    if (synth->parsed()) {
      const SynthDetectionSummary s = synth_detection(*so);
      std::cerr << s.text() << " -> " << so->out << std::endl;
      return 0;
    }
    if (!prep->parsed()) return 1;
    StopSignals::install();
    opt->should_stop = [] { return StopSignals::requested(); };
    const bool tty = ::isatty(2) != 0;
    if (!*quiet) {
      opt->progress_seconds = tty ? 0.5 : 10.0;
      opt->progress = [tty](const PrepareProgress& p) {
        const double mb = static_cast<double>(p.bytes) / 1e6;
        std::fprintf(stderr, "%sfiles %lld/%lld | %.1f MB | %lld docs | %lld tokens | %.1f MB/s%s",
                     tty ? "\r" : "", static_cast<long long>(p.files_done), static_cast<long long>(p.files_total),
                     mb, static_cast<long long>(p.documents), static_cast<long long>(p.tokens),
                     p.seconds > 0 ? mb / p.seconds : 0.0, tty ? "   " : "\n");
        std::fflush(stderr);
      };
    }
    TokenizerPtr tok = load_tokenizer(*tokenizer_dir);
    PrepareSummary s = prepare_text_data(*tok, *opt);
    if (!*quiet) std::cerr << (tty ? "\n" : "") << s.text();
    if (*json) std::cout << s.meta.dump(2) << std::endl;
    return 0;
  };
}

}  // namespace ptft::cli
