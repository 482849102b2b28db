// ptft/data/text_classification_row.h — one line of text-classification data (JSONL) and the
// class names of a file's labels, without torch: the row check that ptft/data/text_classification.h
// runs on every line, and that the libFuzzer target fuzz_jsonl_rows builds alone.
//
// Either form (other fields of a row are ignored); a label is a string or an integer:
//   {"text": "The court dismissed the appeal.", "label": "law"}
//   {"text_a": "A man plays a guitar.", "text_b": "Someone makes music.", "label": 1}
//
//   TextClassificationRow r = parse_text_classification_row(json::parse(line), "train.jsonl:3");
//   sorted_class_names({"10", "2", "2"});   // {"2", "10"}
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptft {

// What a text-classification row looks like (the hint of every row error).
extern const char* const kTextClassificationRowHint;

struct TextClassificationRow {
  std::string a, b;   // text (or text_a) and text_b
  bool pair = false;  // text_a/text_b given
  std::string label;  // never empty; an integer label as its decimal string ("3")
};

// One JSONL row; `where` ("file:line") starts error messages. UserError for a row that is not an
// object, has both 'text' and 'text_a'/'text_b', a missing or non-string text, no label, a label
// that is neither a string nor an integer, or an empty label.
TextClassificationRow parse_text_classification_row(const nlohmann::json& row, const std::string& where);

// The distinct labels, sorted: numerically when all are integers ("2" before "10"), else by bytes.
std::vector<std::string> sorted_class_names(const std::vector<std::string>& labels);

}  // namespace ptft
