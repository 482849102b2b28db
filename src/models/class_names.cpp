#include "ptft/models/class_names.h"

#include <set>

#include "ptft/core/error.h"

namespace ptft {

std::vector<std::string> default_class_names(int64_t k) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < k; ++i) names.push_back(std::to_string(i));
  return names;
}

void check_class_names(const std::vector<std::string>& names, const std::string& where) {
  if (names.size() < 2)
    throw UserError(where + ": a classifier needs at least 2 classes, got " + std::to_string(names.size()),
                    "name every class the data holds");
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) throw UserError(where + ": class " + std::to_string(i) + " has an empty name");
    if (!seen.insert(names[i]).second)
      throw UserError(where + ": class name '" + names[i] + "' appears twice (class " + std::to_string(i) + ")",
                      "class names must be distinct");
  }
}

nlohmann::json class_names_json(const std::vector<std::string>& names) {
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (size_t i = 0; i < names.size(); ++i) {
    id2label[std::to_string(i)] = names[i];
    label2id[names[i]] = static_cast<int64_t>(i);
  }
  return {{"id2label", id2label}, {"label2id", label2id}};
}

std::vector<std::string> class_names_from_json(const nlohmann::json& j, int64_t num_classes,
                                               const std::string& source) {
  if (!j.contains("id2label") || j["id2label"].is_null()) {
    if (num_classes < 0)
      throw UserError("'" + source + "' has no \"id2label\"", "the config must name its classes (id2label)");
    return default_class_names(num_classes);
  }
  const nlohmann::json& m = j["id2label"];
  if (!m.is_object()) throw UserError("'" + source + "': \"id2label\" must be an object {\"0\": \"name\", ...}");
  const int64_t k = static_cast<int64_t>(m.size());
  if (num_classes >= 0 && k != num_classes)
    throw UserError("'" + source + "': \"id2label\" names " + std::to_string(k) + " classes but the model has " +
                        std::to_string(num_classes) + " outputs",
                    "id2label needs one entry per output class");
  std::vector<std::string> names(k);
  for (int64_t i = 0; i < k; ++i) {
    const std::string id = std::to_string(i);
    if (!m.contains(id) || !m[id].is_string())
      throw UserError("'" + source + "': \"id2label\" has no name for class " + id,
                      "ids must be \"0\"..\"" + std::to_string(k - 1) + "\" with string names");
    names[i] = m[id].get<std::string>();
  }
  check_class_names(names, "'" + source + "' id2label");
  return names;
}

}  // namespace ptft
