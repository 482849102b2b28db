#include "hf_json.h"

#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft::hf {

std::string show(const Json& value) {
  std::string s = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

void JsonAt::fail(const Json& value, const std::string& what, const std::string& hint) const {
  throw UserError("'" + file + "': " + (path.empty() ? "the top level" : path) + " is " + show(value) + ": " + what,
                  hint);
}

void JsonAt::fail(const std::string& what, const std::string& hint) const {
  throw UserError("'" + file + "': " + (path.empty() ? "the top level" : path) + ": " + what, hint);
}

void JsonAt::require_object(const Json& obj) const {
  if (!obj.is_object()) fail(obj, "expected a JSON object", "see docs/formats.md, section tokenizer.json");
}

const Json& JsonAt::required(const Json& obj, const char* key) const {
  require_object(obj);
  const auto it = obj.find(key);
  if (it == obj.end())
    (*this)[key].fail("is missing", "a tokenizer.json saved by Hugging Face tokenizers has it; is the file complete?");
  return *it;
}

std::string JsonAt::string(const Json& obj, const char* key) const {
  const Json& v = required(obj, key);
  if (!v.is_string()) (*this)[key].fail(v, "expected a string", "write it as a JSON string");
  return v.get<std::string>();
}

std::string JsonAt::string_or(const Json& obj, const char* key, const std::string& def) const {
  require_object(obj);
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_string()) (*this)[key].fail(*it, "expected a string", "write it as a JSON string");
  return it->get<std::string>();
}

bool JsonAt::boolean_or(const Json& obj, const char* key, bool def) const {
  require_object(obj);
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_boolean()) (*this)[key].fail(*it, "expected true or false", "write it as a JSON boolean");
  return it->get<bool>();
}

int64_t JsonAt::integer_or(const Json& obj, const char* key, int64_t def) const {
  require_object(obj);
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_number_integer()) (*this)[key].fail(*it, "expected an integer", "write it as a JSON integer");
  return it->get<int64_t>();
}

std::string JsonAt::type(const Json& obj, const std::vector<std::string>& known) const {
  const std::string t = string(obj, "type");
  for (const auto& k : known)
    if (t == k) return t;
  (*this)["type"].unknown_type(t, known);
}

void JsonAt::unknown_type(const std::string& type, const std::vector<std::string>& known) const {
  const std::string near = config::nearest(type, known);
  throw UserError("'" + file + "': " + path + " is \"" + type + "\", which ptft does not read",
                  (near.empty() ? std::string() : "did you mean \"" + near + "\"? ") + "ptft reads " +
                      config::list_names(known) +
                      " (docs/formats.md, section tokenizer.json); encoding with a different one would "
                      "give different ids");
}

}  // namespace ptft::hf
