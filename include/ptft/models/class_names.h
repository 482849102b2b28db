// ptft/models/class_names.h — the names of a classifier's output classes, as Hugging Face
// config.json stores them: "id2label" {"0": "cat", ...} and "label2id" {"cat": 0, ...}.
//
//   std::vector<std::string> names = default_class_names(3);           // "0", "1", "2"
//   j.update(class_names_json(names));                                  // id2label + label2id
//   names = class_names_from_json(j, /*num_classes=*/3, "ckpt/config.json");
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptft {

// "0".."k-1": the names of classes nobody named.
std::vector<std::string> default_class_names(int64_t k);
// UserError (naming `where`) for fewer than two names, an empty name or a repeated one.
void check_class_names(const std::vector<std::string>& names, const std::string& where);
// {"id2label": {"0": names[0], ...}, "label2id": {names[0]: 0, ...}}
nlohmann::json class_names_json(const std::vector<std::string>& names);
// The names in config.json `j` (its id2label; default names when it has none). num_classes < 0:
// any count (then id2label must exist). Ids must be exactly 0..K-1; errors name `source`.
std::vector<std::string> class_names_from_json(const nlohmann::json& j, int64_t num_classes,
                                               const std::string& source);

}  // namespace ptft
