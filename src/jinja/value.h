// src/jinja/value.h — the values a chat template computes with, with Python's semantics
// (private to src/jinja/): None, bool, int, float, str, list, tuple, dict (insertion-ordered),
// jinja2's namespace and loop objects, callables (macros, globals, bound methods) and jinja2's
// default Undefined (prints empty, is falsy, iterates as empty, fails on anything else).
//
//   Value v = Value::from_json(nlohmann::ordered_json::parse(R"({"a": [1, "x"]})"));
//   v.str()                        -> "{'a': [1, 'x']}"      (Python's str())
//   v.truthy()                     -> true
//   Value::undefined_name("foo")   -> Undefined; using it throws "'foo' is undefined"
//
// Values are immutable once built (the sandbox jinja2 runs chat templates in forbids mutating
// lists and dicts); only namespace() objects change, by `{% set ns.x = ... %}`, and iterators
// (generators) are used up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptft::jinja {

class Value;
using ValueList = std::vector<Value>;
// dict: insertion-ordered (key, value) pairs; lookups scan (chat-template dicts are small).
using ValueDict = std::vector<std::pair<Value, Value>>;

// A Python exception raised while rendering: its jinja2/Python type name ("UndefinedError",
// "TypeError", "SecurityError", "TemplateError", ...) and message; `line` is filled in by the
// innermost template node that knows its line.
struct RenderError {
  std::string type;
  std::string message;
  int line = 0;
};
[[noreturn]] void fail(const std::string& type, const std::string& message);

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
  std::string name;  // for messages: "range", "macro 'm'", "str.strip"
  std::function<Value(CallArgs&)> call;
};

struct Namespace {
  std::map<std::string, Value> attrs;
  std::vector<std::string> order;  // insertion order, for printing
  uint32_t depth = 1;              // nesting (see Value::nesting), only grows
};

// Lists, tuples, dicts and namespaces nest at most this deep: deeper is an error, not a stack
// overflow when the value is printed, compared or freed.
constexpr uint32_t kMaxValueNesting = 500;

// The consumption state of an iterator (a generator from map/select/unique/items, a reversed()
// iterator): items are used once; an error found while computing them is raised on first use,
// as Python's lazy generators raise it.
struct IterState {
  std::size_t pos = 0;
  std::string type_name;  // "generator", "list_reverseiterator", ...
  std::optional<RenderError> error;
};

// The `loop` variable of a for loop.
struct LoopState {
  std::shared_ptr<const ValueList> items;
  std::size_t index0 = 0;
  int depth0 = 0;
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kStr, kList, kTuple, kDict, kNamespace, kLoop, kCallable };
  // What Python object a list stands for: a list, a dict view (dict.items() prints
  // "dict_items([...])", has a length, is not subscriptable), a range ("range(0, 3)") or a
  // one-use iterator (no length, not subscriptable, always true, cannot be printed).
  enum class ListStyle { kPlain, kDictItems, kDictKeys, kDictValues, kRange, kIterator };

  Value() = default;  // Undefined (no name)
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  static Value list(ValueList items, ListStyle style = ListStyle::kPlain);
  // An iterator over `items` (type_name: Python's, for messages: "generator", ...).
  static Value iterator(ValueList items, std::string type_name = "generator");
  // A generator that raises `error` when first used.
  static Value failing_iterator(RenderError error);
  // range(start, stop, step) as a list that prints "range(0, 3)".
  static Value range(int64_t start, int64_t stop, int64_t step);
  static Value tuple(ValueList items);
  static Value dict(ValueDict items);
  static Value namespace_object(std::shared_ptr<Namespace> ns);
  static Value loop(std::shared_ptr<LoopState> state);
  static Value callable(std::string name, std::function<Value(CallArgs&)> fn);
  // Undefined variable `name`: "'name' is undefined".
  static Value undefined_name(const std::string& name);
  // Missing attribute / element of `owner`: "'dict object' has no attribute 'x'",
  // "list object has no element 7".
  static Value undefined_member(const Value& owner, const Value& key);
  // Undefined with its own message (e.g. "No first item, sequence was empty.").
  static Value undefined_hint(const std::string& hint);
  // An attribute the sandbox refuses (mutating list/dict methods, dunder names): using it
  // raises SecurityError "access to attribute 'append' of 'list' object is unsafe.".
  static Value unsafe(const Value& owner, const std::string& attr);
  // ordered_json -> Value: objects become dicts (key order kept), arrays lists.
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }  // not bool
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_str() const { return kind_ == Kind::kStr; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence_like() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_iterator() const { return kind_ == Kind::kList && style_ == ListStyle::kIterator; }
  bool is_dict_view() const {
    return kind_ == Kind::kList && (style_ == ListStyle::kDictItems || style_ == ListStyle::kDictKeys ||
                                    style_ == ListStyle::kDictValues);
  }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }  // bool or int
  double as_double() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(as_int()); }
  const std::string& as_str() const { return *s_; }
  const ValueList& items() const { return *list_; }  // list or tuple
  ListStyle list_style() const { return style_; }
  // kRange lists: range(start, stop, step).
  int64_t range_start() const { return i_; }
  int64_t range_stop() const { return range_stop_; }
  int64_t range_step() const { return range_step_; }
  const ValueDict& dict_items() const { return *dict_; }
  Namespace& ns() const { return *ns_; }
  LoopState& loop_state() const { return *loop_; }
  const Callable& fn() const { return *fn_; }

  // Throws the UndefinedError (or SecurityError) this Undefined stands for.
  [[noreturn]] void raise_undefined() const;
  // Throws when this is Undefined (every operation but printing, truth, iteration, length).
  const Value& require_defined() const {
    if (kind_ == Kind::kUndefined) raise_undefined();
    return *this;
  }

  // Python's bool(); an unsafe Undefined raises.
  bool truthy() const;
  // Python's str() (what {{ x }} prints) and repr(). str() of a callable is an error: Python
  // prints its memory address.
  std::string str() const;
  std::string repr() const;
  // Python's type name: "int", "str", "NoneType", "dict", "Undefined", ...
  std::string type_name() const;
  // jinja2's object_type_repr: "dict object", "None", "jinja2.utils.Namespace object".
  std::string object_description() const;
  // Python's ==.
  bool equals(const Value& other) const;
  // Whether Python can hash it (be a dict key, be looked up in a dict): not a list, dict or
  // dict view.
  bool hashable() const {
    return !(kind_ == Kind::kDict || (kind_ == Kind::kList && (style_ == ListStyle::kPlain || is_dict_view())));
  }
  // dict lookup by Python equality; nullptr when absent.
  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  // The items `for x in v` visits: list/tuple items, dict keys, str code points, nothing for
  // Undefined, an iterator's remaining items (consuming them); TypeError "'int' object is not
  // iterable" otherwise.
  ValueList iterate() const;
  // next(iter(v)) for an iterator: its next item (consumed), or nullopt when exhausted.
  std::optional<Value> next_item() const;
  // How deep containers nest in this value: 0 for a scalar, 1 for [1, 2], 2 for [[1]].
  uint32_t nesting() const;
  // Python's len(); Undefined has length 0.
  int64_t length() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  ListStyle style_ = ListStyle::kPlain;
  int64_t range_stop_ = 0, range_step_ = 1;
  uint32_t depth_ = 0;  // lists, tuples, dicts: nesting()
  std::shared_ptr<IterState> iter_;  // kIterator lists  // kRange lists: range(i_, range_stop_, range_step_)
  std::shared_ptr<const std::string> s_;  // str; Undefined: its message; unsafe: its message
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<const ValueDict> dict_;
  std::shared_ptr<Namespace> ns_;
  std::shared_ptr<LoopState> loop_;
  std::shared_ptr<const Callable> fn_;
};

// Python's <, <=, >, >= on numbers, strings, lists, tuples; TypeError otherwise. op: "<" ...
bool py_less(const Value& a, const Value& b, const char* op);
bool py_compare(const std::string& op, const Value& a, const Value& b);
// Python's `a in b`.
bool py_contains(const Value& container, const Value& item);

}  // namespace ptft::jinja
