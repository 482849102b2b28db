#include "ptft/data/text_classification_row.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "ptft/core/error.h"
#include "ptft/data/text_inputs.h"

namespace ptft {

const char* const kTextClassificationRowHint =
    "each line holds {\"text\": \"...\", \"label\": \"...\"} or {\"text_a\": \"...\", \"text_b\": \"...\", "
    "\"label\": ...}; a label is a string or an integer";

namespace {

// `s` as a decimal integer ("-3", "10"), when it is exactly one.
bool parse_integer(const std::string& s, int64_t& v) {
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  return ec == std::errc() && p == end;
}

}  // namespace

TextClassificationRow parse_text_classification_row(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object())
    throw UserError(where + ": expected a JSON object, got " + std::string(j.type_name()), kTextClassificationRowHint);
  TextClassificationRow r;
  r.pair = j.contains("text_a") || j.contains("text_b");
  if (r.pair && j.contains("text"))
    throw UserError(where + ": the row has both 'text' and 'text_a'/'text_b'",
                    "use {\"text\": ...} for one text, {\"text_a\": ..., \"text_b\": ...} for a pair");
  if (r.pair) {
    r.a = text::json_string_field(j, "text_a", where, kTextClassificationRowHint);
    r.b = text::json_string_field(j, "text_b", where, kTextClassificationRowHint);
  } else {
    r.a = text::json_string_field(j, "text", where, kTextClassificationRowHint);
  }
  const auto it = j.find("label");
  if (it == j.end()) throw UserError(where + ": no 'label' field", kTextClassificationRowHint);
  if (it->is_string()) r.label = it->get<std::string>();
  else if (it->is_number_integer()) r.label = it->dump();  // 3 -> "3"
  else
    throw UserError(where + ": 'label' is " + (it->is_number() ? std::string("a fraction (") + it->dump() + ")"
                                                               : std::string(it->type_name())) +
                        ", expected a string or an integer",
                    kTextClassificationRowHint);
  if (r.label.empty()) throw UserError(where + ": 'label' is an empty string", "name the row's class");
  return r;
}

std::vector<std::string> sorted_class_names(const std::vector<std::string>& labels) {
  const std::set<std::string> distinct(labels.begin(), labels.end());
  std::vector<std::string> out(distinct.begin(), distinct.end());
  std::vector<std::pair<int64_t, std::string>> numeric;
  for (const auto& name : out) {
    int64_t v = 0;
    if (!parse_integer(name, v)) return out;
    numeric.emplace_back(v, name);
  }
  std::sort(numeric.begin(), numeric.end());  // "01" and "1" are two classes: by value, then bytes
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = numeric[k].second;
  return out;
}

}  // namespace ptft
