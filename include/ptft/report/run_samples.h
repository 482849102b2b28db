// ptft/report/run_samples.h — a short text the run's model writes, for the report.
//
// Only GPT runs whose checkpoint (checkpoints/best, else last) has a tokenizer: the model
// continues the empty prompt (GPT-2's end-of-text token) greedily for `tokens` new tokens on
// the CPU. Anything else gives no sample; a checkpoint that fails to load gives a note.
//
//   std::optional<RunSample> s = run_sample(history, 30);   // s->text, or s->note
#pragma once

#include <optional>

#include "ptft/report/html_report.h"
#include "ptft/report/run_history.h"

namespace ptft::report {

std::optional<RunSample> run_sample(const RunHistory& run, int tokens);

}  // namespace ptft::report
