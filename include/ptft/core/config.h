// ptft/core/config.h — run configuration: a YAML file plus `--set a.b=value` overrides, bound
// onto plain C++ structs that name each field once, in a visit() member.
//
// A config struct declares every field with its default and lists it in visit(); validate() is
// optional and is called by bind() after the struct is filled:
//
//   struct LoraConfig {
//     int64_t r = 8;                                  // adapter rank
//     double alpha = 16.0;                            // scale = alpha / r
//     std::string init = "kaiming";                   // A init
//     template <class V> void visit(V& v) {
//       v("r", r, "adapter rank");
//       v("alpha", alpha, "scale = alpha / r");
//       v.choice("init", init, {"kaiming", "gaussian"}, "initialisation of A");
//     }
//     void validate() const;                          // throws UserError
//   };
//
//   auto doc = config::Document::from_file("run.yaml");
//   doc.set("finetune.lora.r=16");                    // --set beats the file
//   LoraConfig lora;
//   config::bind(doc, lora, "finetune.lora");         // absent keys keep their defaults
//   fs::write_file_atomic("run/lora.yaml", config::emit(config::to_yaml(lora)));
//
// Field types: bool, any integer type (range-checked), double, float, std::string,
// std::vector<E> and std::map<std::string, E> of those, nested structs with visit(), and
// YAML::Node (a raw subtree, bound as-is for someone else to interpret).
//
// Beware of yaml-cpp's assignment: `a = b` on two structs with a YAML::Node field makes the node
// that a's field referred to (e.g. part of a Document) take b's value. Copy-construct instead, or
// reset() the field first; bind() does so.
//
// Every mistake is a UserError whose message names where the value came from ("run.yaml:12"
// or "--set train.lr=abc"), the full dotted key and the value, and whose hint says how to fix it
// (the nearest valid key, the allowed values, the default). Unknown keys and nulls are errors.
// Torch-free: depends only on the standard library and yaml-cpp.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "ptft/core/error.h"

namespace ptft::config {

namespace detail {
struct Where;
}

// A YAML document plus --set overrides, remembering where each value came from (for messages).
// Copies share the underlying YAML tree (YAML::Node semantics).
class Document {
 public:
  Document();  // same as empty()
  // UserError: missing file, YAML syntax error (with line/column), top level not a map.
  static Document from_file(const std::string& path);
  static Document from_string(const std::string& text, const std::string& origin = "<string>");
  static Document empty();

  // "train.lr=1e-3", "finetune.lora.targets=[c_attn,c_proj]", "finetune.lora={r: 4}": the value
  // is parsed as YAML (scalar or flow collection) and replaces whatever was at the key; missing
  // sections are created. Malformed text (no '=', empty key or key part, bad YAML) is a UserError.
  void set(const std::string& assignment);
  // Adds each key of the map `defaults` to the section `section` (a top-level key) where the
  // document does not set it already; origin_of() then reports `origin` for it. Used for
  // presets: the user's keys win, the preset fills the rest.
  void fill_defaults(const std::string& section, const YAML::Node& defaults, const std::string& origin);

  const YAML::Node& root() const { return root_; }
  // Where the value at a dotted key came from: "--set train.lr=1e-3" when an override wrote it
  // (or a section above it), else "run.yaml:LINE" for the line of the key, else "run.yaml".
  // A key that is absent reports its nearest present ancestor.
  std::string origin_of(const std::string& dotted_key) const;
  // The file path (or the origin given to from_string) without a line.
  const std::string& source() const { return source_; }

 private:
  friend struct detail::Where;
  Document(YAML::Node root, std::string source);
  // The --set text that last wrote `dotted_key` or a section above it; nullptr if none.
  const std::string* override_of(const std::string& dotted_key) const;

  YAML::Node root_;  // always a map
  std::string source_;
  std::map<std::string, std::string> overrides_;  // dotted key -> "--set ..." that wrote it
};

// Fills `out` from the subtree at `prefix` ("" = root, "finetune.lora" = a nested section).
// Keys absent in the document keep the values `out` already has (its defaults). Nested structs'
// validate() run first, then T's. On error `out` is left unchanged.
template <class T>
void bind(const Document& doc, T& out, const std::string& prefix = "");

// Resolved values of every field (defaults included) in declaration order, as YAML.
// Strings are tagged so that emit() quotes the ones that would re-read as another type.
template <class T>
YAML::Node to_yaml(const T& cfg);

// YAML text (block style; lists of scalars in flow style) ending in a newline. Numbers are
// written as to_yaml() formatted them: doubles in the shortest text that re-reads to the
// identical value, always with a '.' so that other YAML readers see a float ("3.0e-4", "2.0").
std::string emit(const YAML::Node& node);
// One line, flow style ("[c_attn, c_proj]", "{r: 8}"); used for help and hints.
std::string emit_inline(const YAML::Node& node);
// A number as a config file would hold it, for error messages ("0.5", "2.0", "3.0e-4").
std::string format_number(double v);
// The same values as JSON: maps, lists, and scalars as bool / integer / double / string (a
// quoted YAML scalar stays a string); for metrics.jsonl and config.json.
nlohmann::json to_json(const YAML::Node& node);

// All dotted keys in declaration order, sections included: "r", "lora", "lora.r", ...
template <class T>
std::vector<std::string> keys(const T& cfg);

// The candidate closest to `key` by edit distance (transpositions count 1, case ignored; a
// dotted key also matches on its last part, so "lr" finds "train.lr"); "" if nothing is close.
std::string nearest(const std::string& key, const std::vector<std::string>& candidates);
// "a, b, c" for messages; after `max` names: ", ... (N in all)".
std::string list_names(const std::vector<std::string>& names, std::size_t max = 20);

// Help listing, one line per field with its current value and help, aligned:
//   "  train.steps = 2000   # optimizer steps"
// A nested section is introduced by "  train.lora.*   # <its help>".
template <class T>
std::string describe(const T& cfg, const std::string& prefix = "");

// --------------------------------------------------------------------------------------------
// Implementation.
namespace detail {

template <class>
inline constexpr bool kDependentFalse = false;

// Accepts any visit() call; only used to detect config structs.
struct Probe {
  template <class F>
  void operator()(const std::string&, F&, const std::string& = {}) {}
  void choice(const std::string&, std::string&, const std::vector<std::string>&,
              const std::string& = {}) {}
};

template <class T, class = void>
struct IsSection : std::false_type {};
template <class T>
struct IsSection<T, std::void_t<decltype(std::declval<T&>().visit(std::declval<Probe&>()))>>
    : std::true_type {};
template <class T>
inline constexpr bool kIsSection = IsSection<T>::value;

template <class T, class = void>
struct HasValidate : std::false_type {};
template <class T>
struct HasValidate<T, std::void_t<decltype(std::declval<T&>().validate())>> : std::true_type {};

template <class T>
struct IsVector : std::false_type {};
template <class E, class A>
struct IsVector<std::vector<E, A>> : std::true_type {};

template <class T>
struct IsStringMap : std::false_type {};
template <class E, class C, class A>
struct IsStringMap<std::map<std::string, E, C, A>> : std::true_type {};

// "an integer" / "integers": used in "'train.steps' must be an integer".
template <class T>
std::string type_name(bool plural = false) {
  if constexpr (std::is_same_v<T, bool>) {
    return plural ? "true/false values" : "true or false";
  } else if constexpr (std::is_integral_v<T>) {
    return plural ? "integers" : "an integer";
  } else if constexpr (std::is_floating_point_v<T>) {
    return plural ? "numbers" : "a number";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return plural ? "strings" : "a string";
  } else if constexpr (std::is_same_v<T, YAML::Node>) {
    return plural ? "YAML values" : "any YAML value";
  } else if constexpr (IsVector<T>::value) {
    return plural ? "lists" : "a list of " + type_name<typename T::value_type>(true);
  } else if constexpr (IsStringMap<T>::value) {
    return plural ? "sections"
                  : "a section (key: value map) of " + type_name<typename T::mapped_type>(true);
  } else if constexpr (kIsSection<T>) {
    return plural ? "sections" : "a section (key: value map)";
  } else {
    static_assert(kDependentFalse<T>, "ptft::config: unsupported field type");
  }
}

// Where a value sits, for messages: the dotted key as shown ("lora.targets[1]") and, for list
// elements and map values, the node's own position when it is narrower than the key's line.
struct Where {
  const Document* doc;
  std::string key;
  YAML::Mark mark = YAML::Mark::null_mark();

  std::string origin() const;  // "--set ...", "run.yaml:LINE" or "run.yaml"
  Where element(std::size_t i, const YAML::Node& node) const;
  Where entry(const std::string& name, const YAML::Node& key_node) const;
};

std::string join(const std::string& prefix, const std::string& key);

// The error helpers all throw UserError("<origin>: '<key>' must be ..., got ...", hint).
[[noreturn]] void fail_type(const Where& w, const std::string& expected, const YAML::Node& got,
                            const std::string& hint = {});
[[noreturn]] void fail_null(const Where& w, const std::string& expected,
                            const std::string& default_text);
void check_choice(const Where& w, const std::string& value, const std::vector<std::string>& allowed);
// Unknown, duplicate and non-name keys in `map`, bound at `path` to a struct declaring `declared`.
// `all_keys` (every dotted key bind() knows) is searched when no sibling is close.
void check_keys(const Document& doc, const YAML::Node& map, const std::string& path,
                const std::vector<std::string>& declared, const std::vector<std::string>& all_keys);
// The value under `key` in a map (first occurrence), or nullopt.
std::optional<YAML::Node> find_entry(const YAML::Node& map, const std::string& key);
// "run.yaml:4: in 'train.lora'" — context for errors from a section's validate(). When `message`
// names a key of the section ("train.lr must be > 0"), that key's own origin: its line, or the
// --set that gave it ("--set train.lr=-1").
std::string section_context(const Document& doc, const std::string& path, const std::string& message = "");
[[noreturn]] void fail_duplicate_declaration(const std::string& path, const std::string& key);

void decode_bool(const YAML::Node& n, const Where& w, bool& out);
std::int64_t decode_integer(const YAML::Node& n, const Where& w, std::int64_t lo, std::int64_t hi);
void decode_double(const YAML::Node& n, const Where& w, double& out);
void decode_float(const YAML::Node& n, const Where& w, float& out);
void decode_string(const YAML::Node& n, const Where& w, std::string& out);

// Shortest text that re-reads to the same value, with a '.' ("0.1", "3.0e-4", "2.0", ".inf").
std::string format_double(double v);
std::string format_float(float v);
YAML::Node string_scalar(const std::string& s);  // tagged "!" so emit() quotes "true", "1", ""

template <class T>
void decode(const YAML::Node& n, const Where& w, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    decode_bool(n, w, out);
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(sizeof(T) <= sizeof(std::int64_t), "ptft::config: integer wider than 64 bits");
    constexpr std::int64_t lo = std::is_signed_v<T>
                                    ? static_cast<std::int64_t>(std::numeric_limits<T>::min())
                                    : 0;
    constexpr std::int64_t hi =
        static_cast<std::uint64_t>(std::numeric_limits<T>::max()) >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
            ? std::numeric_limits<std::int64_t>::max()
            : static_cast<std::int64_t>(std::numeric_limits<T>::max());
    out = static_cast<T>(decode_integer(n, w, lo, hi));
  } else if constexpr (std::is_same_v<T, double>) {
    decode_double(n, w, out);
  } else if constexpr (std::is_same_v<T, float>) {
    decode_float(n, w, out);
  } else if constexpr (std::is_same_v<T, std::string>) {
    decode_string(n, w, out);
  } else if constexpr (std::is_same_v<T, YAML::Node>) {
    out.reset(n);  // share, never assign: assignment would write through into another tree
  } else if constexpr (IsVector<T>::value) {
    if (!n.IsSequence()) {
      fail_type(w, type_name<T>(), n,
                n.IsScalar() ? "write a list, e.g. [" + n.Scalar() + "]" : "write a list, e.g. [a, b]");
    }
    T tmp;
    tmp.reserve(n.size());
    std::size_t i = 0;
    for (auto it = n.begin(); it != n.end(); ++it, ++i) {
      const YAML::Node elem = *it;
      const Where ew = w.element(i, elem);
      if (elem.IsNull()) fail_type(ew, type_name<typename T::value_type>(), elem);
      typename T::value_type v{};
      decode(elem, ew, v);
      tmp.push_back(std::move(v));
    }
    out = std::move(tmp);
  } else if constexpr (IsStringMap<T>::value) {
    if (!n.IsMap()) fail_type(w, type_name<T>(), n, "write key: value pairs, e.g. {a: b}");
    T tmp;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node k = it->first, v = it->second;
      if (!k.IsScalar()) fail_type(w, "a section with plain names as keys", n);
      const Where ew = w.entry(k.Scalar(), k);
      if (tmp.count(k.Scalar())) {
        throw UserError(ew.origin() + ": duplicate key '" + ew.key + "'", "delete one of them");
      }
      if (v.IsNull()) fail_type(ew, type_name<typename T::mapped_type>(), v);
      typename T::mapped_type value{};
      decode(v, ew, value);
      tmp.emplace(k.Scalar(), std::move(value));
    }
    out = std::move(tmp);
  } else {
    static_assert(kDependentFalse<T>,
                  "ptft::config: unsupported field type (see the list in ptft/core/config.h)");
  }
}

template <class T>
YAML::Node encode(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return YAML::Node(std::string(v ? "true" : "false"));
  } else if constexpr (std::is_integral_v<T>) {
    return YAML::Node(std::to_string(v));
  } else if constexpr (std::is_same_v<T, double>) {
    return YAML::Node(format_double(v));
  } else if constexpr (std::is_same_v<T, float>) {
    return YAML::Node(format_float(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return string_scalar(v);
  } else if constexpr (std::is_same_v<T, YAML::Node>) {
    return v;
  } else if constexpr (IsVector<T>::value) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& e : v) seq.push_back(encode(e));
    return seq;
  } else if constexpr (IsStringMap<T>::value) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& [k, e] : v) map.force_insert(string_scalar(k), encode(e));
    return map;
  } else if constexpr (kIsSection<T>) {
    return to_yaml(v);
  } else {
    static_assert(kDependentFalse<T>,
                  "ptft::config: unsupported field type (see the list in ptft/core/config.h)");
  }
}

// Keys of one struct level; a key declared twice is a bug in the struct.
struct LocalKeys {
  std::string path;
  std::vector<std::string> keys;
  void add(const std::string& key) {
    for (const auto& k : keys)
      if (k == key) fail_duplicate_declaration(path, key);
    keys.push_back(key);
  }
  template <class F>
  void operator()(const std::string& key, F&, const std::string& = {}) { add(key); }
  void choice(const std::string& key, std::string&, const std::vector<std::string>&,
              const std::string& = {}) { add(key); }
};

struct KeyLister {
  std::string prefix;
  std::vector<std::string>* out;
  template <class F>
  void operator()(const std::string& key, F& field, const std::string& = {}) {
    const std::string full = join(prefix, key);
    out->push_back(full);
    if constexpr (kIsSection<F>) {
      KeyLister sub{full, out};
      field.visit(sub);
    }
  }
  void choice(const std::string& key, std::string& field, const std::vector<std::string>&,
              const std::string& = {}) {
    (*this)(key, field);
  }
};

struct Dumper {
  YAML::Node out{YAML::NodeType::Map};
  template <class F>
  void operator()(const std::string& key, F& field, const std::string& = {}) {
    out.force_insert(key, encode(field));
  }
  void choice(const std::string& key, std::string& field, const std::vector<std::string>&,
              const std::string& = {}) {
    (*this)(key, field);
  }
};

struct Describer {
  std::string prefix;
  std::vector<std::pair<std::string, std::string>>* rows;  // ("key = value" | "key.*", help)
  template <class F>
  void operator()(const std::string& key, F& field, const std::string& help = {}) {
    const std::string full = join(prefix, key);
    if constexpr (kIsSection<F>) {
      rows->emplace_back(full + ".*", help);
      Describer sub{full, rows};
      field.visit(sub);
    } else {
      rows->emplace_back(full + " = " + emit_inline(encode(field)), help);
    }
  }
  void choice(const std::string& key, std::string& field, const std::vector<std::string>& allowed,
              const std::string& help = {}) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
    rows->emplace_back(join(prefix, key) + " = " + emit_inline(encode(field)),
                       help.empty() ? "one of " + list : help + " (" + list + ")");
  }
};
std::string format_rows(const std::vector<std::pair<std::string, std::string>>& rows);

// Points every YAML::Node field (nested sections included) at nothing. yaml-cpp's
// Node::operator= writes *through* into the node a field already refers to, so assigning a
// struct onto one whose raw field came from a document would rewrite that document; a detached
// field is simply re-pointed by the assignment.
struct Detacher {
  template <class F>
  void operator()(const std::string&, F& field, const std::string& = {}) {
    if constexpr (std::is_same_v<F, YAML::Node>) {
      field.reset(YAML::Node());
    } else if constexpr (kIsSection<F>) {
      field.visit(*this);
    }
  }
  void choice(const std::string&, std::string&, const std::vector<std::string>&,
              const std::string& = {}) {}
};

template <class T>
void bind_section(const Document& doc, const YAML::Node* node, const std::string& path, T& obj,
                  const std::vector<std::string>& all_keys);

// Binds one struct level from `node` (a map), or only recurses into nested sections (to run
// their validate()) when the section is absent (`node` == nullptr).
struct Binder {
  const Document& doc;
  const YAML::Node* node;
  std::string path;
  const std::vector<std::string>& all_keys;

  template <class F>
  void operator()(const std::string& key, F& field, const std::string& = {}) {
    const std::string full = join(path, key);
    std::optional<YAML::Node> value;
    if (node) value = find_entry(*node, key);
    if constexpr (kIsSection<F>) {
      if (!value) return bind_section(doc, nullptr, full, field, all_keys);
      if (!value->IsMap()) {
        fail_type(Where{&doc, full}, type_name<F>(), *value,
                  value->IsNull() ? "give it fields, or delete '" + key + ":' to keep the defaults"
                                  : "indent its fields under '" + key +
                                        ":', or write " + key + ": {key: value, ...}");
      }
      bind_section(doc, &*value, full, field, all_keys);
    } else {
      if (!value) return;
      const Where w{&doc, full};
      if constexpr (!std::is_same_v<F, YAML::Node>) {
        if (value->IsNull()) fail_null(w, type_name<F>(), emit_inline(encode(field)));
      }
      decode(*value, w, field);
    }
  }

  void choice(const std::string& key, std::string& field, const std::vector<std::string>& allowed,
              const std::string& = {}) {
    if (!node) return;
    const std::optional<YAML::Node> value = find_entry(*node, key);
    if (!value) return;
    const Where w{&doc, join(path, key)};
    if (value->IsNull()) fail_null(w, type_name<std::string>(), emit_inline(encode(field)));
    std::string tmp;
    decode_string(*value, w, tmp);
    check_choice(w, tmp, allowed);
    field = std::move(tmp);
  }
};

template <class T>
void bind_section(const Document& doc, const YAML::Node* node, const std::string& path, T& obj,
                  const std::vector<std::string>& all_keys) {
  if (node) {
    LocalKeys local{path, {}};
    obj.visit(local);
    check_keys(doc, *node, path, local.keys, all_keys);
  }
  Binder binder{doc, node, path, all_keys};
  obj.visit(binder);
  if constexpr (HasValidate<T>::value) {
    try {
      obj.validate();
    } catch (const UserError& e) {
      throw e.with_context(section_context(doc, path, e.message()));
    }
  }
}

}  // namespace detail

template <class T>
void bind(const Document& doc, T& out, const std::string& prefix) {
  static_assert(detail::kIsSection<T>, "ptft::config::bind needs a struct with a visit() member");
  std::vector<std::string> all;
  for (const auto& k : keys(out)) all.push_back(detail::join(prefix, k));

  // Walk to the prefix; an absent section binds nothing but still validates.
  std::optional<YAML::Node> node = doc.root();
  std::string walked;
  std::size_t start = 0;
  while (node && start < prefix.size()) {
    const std::size_t dot = prefix.find('.', start);
    const std::string part = prefix.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->IsMap()) {  // the root always is a map, so `walked` is never empty here
      detail::fail_type(detail::Where{&doc, walked}, "a section (key: value map)", *node);
    }
    walked = detail::join(walked, part);
    // Not `node = ...`: YAML::Node's assignment would write the child into the node `node` refers
    // to, i.e. replace the document's root by this section (found by fuzz_config_yaml).
    std::optional<YAML::Node> child = detail::find_entry(*node, part);
    node.reset();
    if (child) node.emplace(*child);
    start = dot == std::string::npos ? prefix.size() : dot + 1;
  }
  if (node && !node->IsMap()) {
    detail::fail_type(detail::Where{&doc, prefix}, "a section (key: value map)", *node,
                      node->IsNull() ? "give it fields, or delete it to keep the defaults" : "");
  }
  T tmp = out;  // copy construction shares YAML::Node fields without writing through
  detail::bind_section(doc, node ? &*node : nullptr, prefix, tmp, all);
  detail::Detacher detach;
  out.visit(detach);
  out = std::move(tmp);
}

template <class T>
YAML::Node to_yaml(const T& cfg) {
  static_assert(detail::kIsSection<T>, "ptft::config::to_yaml needs a struct with a visit() member");
  T copy = cfg;
  detail::Dumper d;
  copy.visit(d);
  return d.out;
}

template <class T>
std::vector<std::string> keys(const T& cfg) {
  T copy = cfg;
  std::vector<std::string> out;
  detail::KeyLister lister{"", &out};
  copy.visit(lister);
  return out;
}

template <class T>
std::string describe(const T& cfg, const std::string& prefix) {
  T copy = cfg;
  std::vector<std::pair<std::string, std::string>> rows;
  detail::Describer d{prefix, &rows};
  copy.visit(d);
  return detail::format_rows(rows);
}

}  // namespace ptft::config
