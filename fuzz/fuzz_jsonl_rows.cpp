// fuzz_jsonl_rows — libFuzzer target for the rows of JSONL training data (downloaded, untrusted):
// text::JsonlLines (lines, byte-order mark, invalid UTF-8), each row as SFT chat data
// (parse_sft_row, rendered by the built-in chat template) and as text classification
// (parse_text_classification_row), and the class names of the labels (sorted_class_names).
//
// Input: the bytes of one .jsonl file (a gzip stream is decompressed, as the readers do). Every
// row must give a result or a ptft::UserError; every other exception, every sanitizer report, a
// hang (-timeout) and runaway memory (-rss_limit_mb) are crashes. A conversation has an assistant
// turn and renders to pieces; a label is not empty; the class names are distinct, hold every
// label, and are sorted numerically when all are integers.
//
//   build-fuzz/fuzz_jsonl_rows -max_total_time=600 /tmp/jsonl-corpus tests/data/fuzz_corpus_jsonl_rows
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "ptft/core/error.h"
#include "ptft/data/chat_template.h"
#include "ptft/data/sft_row.h"
#include "ptft/data/text_classification_row.h"
#include "ptft/data/text_inputs.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_jsonl_rows: %s: %s\n", what, detail.c_str());
  std::abort();
}

void use_sft(const nlohmann::json& row, const std::string& where, const ptft::ChatTemplate& tmpl) {
  std::vector<ptft::ChatMessage> conv;
  try {
    conv = ptft::parse_sft_row(row, where);
  } catch (const ptft::UserError&) {
    return;
  }
  if (std::none_of(conv.begin(), conv.end(), [](const auto& m) { return m.role == "assistant"; }))
    fail("a conversation without an assistant turn", row.dump());
  if (tmpl.render_pieces(conv).empty()) fail("no pieces", row.dump());
}

void use_classification(const nlohmann::json& row, const std::string& where, std::vector<std::string>& labels) {
  try {
    const ptft::TextClassificationRow r = ptft::parse_text_classification_row(row, where);
    if (r.label.empty()) fail("an empty label", row.dump());
    labels.push_back(r.label);
  } catch (const ptft::UserError&) {
  }
}

void check_classes(const std::vector<std::string>& labels) {
  const std::vector<std::string> names = ptft::sorted_class_names(labels);
  const std::set<std::string> distinct(labels.begin(), labels.end());
  if (names.size() != distinct.size() || std::set<std::string>(names.begin(), names.end()) != distinct)
    fail("class names are not the distinct labels", std::to_string(names.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ptft::ChatTemplate tmpl = ptft::ChatTemplate::builtin("ptft-chat");
  const std::string& dir = fuzz_input::scratch_dir();
  fuzz_input::write(dir, "fuzz.jsonl", std::string(reinterpret_cast<const char*>(data), size));
  std::vector<std::string> labels;
  try {
    try {
      ptft::text::TextFile file(dir + "/fuzz.jsonl");
      ptft::text::JsonlLines lines(file, ptft::kSftRowHint);
      nlohmann::json row;
      while (lines.next(row)) {
        use_sft(row, lines.where(), tmpl);
        use_classification(row, lines.where(), labels);
      }
    } catch (const ptft::UserError&) {
      // a line that is not JSON ends the file, as it ends training
    }
    check_classes(labels);
  } catch (const std::exception& e) {
    fail("unexpected exception", e.what());
  }
  return 0;
}
