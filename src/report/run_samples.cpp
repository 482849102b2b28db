// src/report/run_samples.cpp — see include/ptft/report/run_samples.h.
#include "ptft/report/run_samples.h"

#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/infer/generate.h"
#include "ptft/infer/pretrained.h"

namespace ptft::report {
namespace sfs = std::filesystem;

std::optional<RunSample> run_sample(const RunHistory& run, int tokens) {
  if (run.family() != "gpt" || tokens <= 0) return std::nullopt;
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
    Pretrained p = load_pretrained(ckpt, {/*require_tokenizer=*/true});
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
