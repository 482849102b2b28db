// src/report/run_samples.cpp — see include/ptft/report/run_samples.h.
#include "ptft/report/run_samples.h"

#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/infer/generate.h"
#include "ptft/infer/pretrained.h"
#include "ptft/models/model.h"

namespace ptft::report {
namespace sfs = std::filesystem;

namespace {

// Whether models of `family` write text (their default task is causal language modelling); false
// for a family this build does not know.
bool writes_text(const std::string& family) {
  for (const auto& f : model_families())
    if (f.name == family) return f.default_task == "causal_lm";
  return false;
}

}  // namespace

std::optional<RunSample> run_sample(const RunHistory& run, int tokens) {
  if (tokens <= 0 || !writes_text(run.family())) return std::nullopt;
  std::string ckpt;
  std::error_code ec;
  for (const char* which : {"best", "last"}) {
    const std::string dir = run.dir + "/checkpoints/" + which;
    if (sfs::is_directory(dir + "/tokenizer", ec)) {
      ckpt = dir;
      break;
    }
  }
  if (ckpt.empty()) return std::nullopt;  // no checkpoint yet, or one without a tokenizer
  RunSample s;
  try {
    Pretrained p = load_pretrained(ckpt, {/*require_tokenizer=*/true, /*language_model_for=*/""});
    Generator g(p.model, p.tokenizer, p.dir);
    SamplingOptions o;
    o.max_new_tokens = tokens;
    o.temperature = 0;
    s.text = g.generate(s.prompt, o).text;
    s.source = p.dir;
    if (s.text.empty()) s.note = "the model wrote nothing (end of text at once)";
  } catch (const Error& e) {
    s.note = "no sample: " + e.message();
  }
  return s;
}

}  // namespace ptft::report
