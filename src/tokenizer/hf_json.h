// src/tokenizer/hf_json.h — reading tokenizer.json with errors that name the file, the key path
// and the value. Private to src/tokenizer/.
//
//   JsonAt at{"dir/tokenizer.json", "pre_tokenizer"};
//   const std::string type = at.string(j, "type");          // at.path: "pre_tokenizer.type"
//   at["pretokenizers"][2].fail(v, "is not an object", "write {\"type\": ...}");
//   // UserError "'dir/tokenizer.json': pre_tokenizer.pretokenizers[2] is 7: is not an object"
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptft::hf {

using Json = nlohmann::json;

struct JsonAt {
  std::string file;  // for messages
  std::string path;  // "model.merges[12]"; "" = the top level

  JsonAt operator[](const std::string& key) const { return {file, path.empty() ? key : path + "." + key}; }
  JsonAt operator[](std::size_t i) const { return {file, path + "[" + std::to_string(i) + "]"}; }

  // Throws UserError "'file': path is <value>: what" with `hint`.
  [[noreturn]] void fail(const Json& value, const std::string& what, const std::string& hint) const;
  // Throws UserError "'file': path: what" with `hint` (no value to show).
  [[noreturn]] void fail(const std::string& what, const std::string& hint) const;

  // obj[key], which must be there.
  const Json& required(const Json& obj, const char* key) const;
  // The members of `obj` (an object, else an error), typed; `def` when missing or null.
  std::string string(const Json& obj, const char* key) const;
  std::string string_or(const Json& obj, const char* key, const std::string& def) const;
  bool boolean_or(const Json& obj, const char* key, bool def) const;
  int64_t integer_or(const Json& obj, const char* key, int64_t def) const;
  // `obj` itself must be an object (else an error saying what was expected).
  void require_object(const Json& obj) const;
  // The "type" of a component, or an error listing `known`.
  std::string type(const Json& obj, const std::vector<std::string>& known) const;
  // The type is not one ptft reads: error naming it, with `known` and what to do.
  [[noreturn]] void unknown_type(const std::string& type, const std::vector<std::string>& known) const;
};

// A value shown in messages: JSON, cut at 80 characters.
std::string show(const Json& value);

}  // namespace ptft::hf
