// fuzz_config_yaml — libFuzzer target for ptft::config (a run's YAML file and its `--set`
// overrides: both may come from someone else's recipe), parse and bind only.
//
// Input layout: the YAML text, then up to three `--set` assignments, NUL-separated
// (fuzz_input.h). The document's torch-free sections of RunConfig (run/run_config.h, which
// itself needs the torch headers) are bound: train, data.images, data.detection. Every mistake
// must be a ptft::UserError; every other exception, every sanitizer report, a hang (-timeout)
// and runaway memory (-rss_limit_mb) are crashes. A config that binds is written out as run directories save it (emit(to_yaml(...))),
// and that text must read back and bind to the same text.
//
//   build-fuzz/fuzz_config_yaml -max_total_time=120 /tmp/cfg-corpus tests/core/fuzz_corpus_config_yaml
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/data/detection_config.h"
#include "ptft/data/image_config.h"
#include "ptft/train/train_config.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_config_yaml: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The torch-free sections of RunConfig, bound where RunConfig has them, and saved in one file
// as a run directory saves its config.
std::string bound_text(const ptft::config::Document& doc) {
  ptft::TrainConfig train;
  ptft::ImageDataConfig images;
  ptft::DetectionDataConfig detection;
  ptft::config::bind(doc, train, "train");
  ptft::config::bind(doc, images, "data.images");
  ptft::config::bind(doc, detection, "data.detection");
  YAML::Node saved;
  saved["train"] = ptft::config::to_yaml(train);
  saved["data"]["images"] = ptft::config::to_yaml(images);
  saved["data"]["detection"] = ptft::config::to_yaml(detection);
  return ptft::config::emit(saved);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = fuzz_input::split(data, size, 4);
  try {
    std::string saved;
    try {
      ptft::config::Document doc = ptft::config::Document::from_string(parts[0], "fuzz.yaml");
      for (size_t i = 1; i < parts.size(); ++i)
        if (!parts[i].empty()) doc.set(parts[i]);
      ptft::config::to_json(doc.root());
      doc.origin_of("train.lr");
      doc.origin_of("data.images.size");
      saved = bound_text(doc);
    } catch (const ptft::UserError&) {
      return 0;  // rejected: expected for most inputs
    }
    std::string again;
    try {
      again = bound_text(ptft::config::Document::from_string(saved, "saved.yaml"));
    } catch (const ptft::UserError& e) {
      fail("the saved config does not read back", e.full() + "\n" + saved);
    }
    if (again != saved) fail("the saved config reads back differently", saved + "\n---\n" + again);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
