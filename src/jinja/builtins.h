// src/jinja/builtins.h — what a template can call (private to src/jinja/): filters
// (filters.cpp), tests (is_tests.cpp), str/dict/list methods (methods.cpp), the global functions
// (globals.cpp), Python's operators (operators.cpp) and json.dumps for `tojson` (json_dump.cpp).
// Each raises RenderError with the Python exception jinja2 would raise.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "value.h"

namespace ptft::jinja {

// What builtins need from the renderer.
struct RenderEnv {
  std::size_t max_string_bytes = 0;  // any string a template builds (output limit)
  std::tm now{};                     // strftime_now's clock (local time)
  // Applies a filter / test by name (map('lower'), select('odd')).
  std::function<Value(const std::string&, const Value&, CallArgs&)> filter;
  std::function<bool(const std::string&, const Value&, CallArgs&)> test;
  // Every namespace() of the render: their attributes are cleared at its end, which frees
  // namespaces that hold themselves.
  std::vector<std::shared_ptr<Namespace>>* namespaces = nullptr;
};

// Records that `ns` (a namespace attribute or argument) now holds `v`: its nesting grows.
void note_namespace_value(Namespace& ns, const Value& v);

// Throws RenderError "OverflowError" when a built string would pass the limit.
void check_string_size(std::size_t bytes, const RenderEnv& env);

// Binds a call's arguments to parameters by Python's rules (positional, then keyword; unknown or
// repeated keywords and surplus positionals are TypeErrors naming `fn`). Unbound: nullopt.
std::vector<std::optional<Value>> bind_args(const std::string& fn, CallArgs& args, const std::vector<const char*>& params);

Value apply_filter(const std::string& name, const Value& operand, CallArgs& args, const RenderEnv& env);
bool apply_test(const std::string& name, const Value& operand, CallArgs& args, const RenderEnv& env);

// `obj.name` where obj is a str, dict, list or tuple and `name` one of its Python methods: a
// bound callable (a mutating one: an unsafe Undefined, as the immutable sandbox gives).
std::optional<Value> method_of(const Value& obj, const std::string& name, const RenderEnv& env);

// The globals: range, namespace, dict, raise_exception, strftime_now.
std::vector<std::pair<std::string, Value>> make_globals(const RenderEnv& env);

// Python's `fmt % values` (values: a tuple, a dict for %(name)s fields, or one value).
std::string percent_format(const std::string& fmt, const Value& values, const RenderEnv& env);

// Python's binary operators (+ - * / // % **) and unary minus.
Value binary_op(const std::string& op, const Value& a, const Value& b, const RenderEnv& env);
Value negate(const Value& a);
// x[start:stop:step] of a list, tuple or str.
Value slice_of(const Value& obj, const Value& start, const Value& stop, const Value& step);
// x[key] / x.attr with jinja2's sandboxed lookup rules (Undefined when missing).
Value get_item(const Value& obj, const Value& key, const RenderEnv& env);
Value get_attr(const Value& obj, const std::string& name, const RenderEnv& env);

// json.dumps(v, ensure_ascii=, indent=, separators=, sort_keys=) as transformers' tojson calls it.
struct JsonOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // None, or the string one level indents by
  std::optional<std::pair<std::string, std::string>> separators;
  bool sort_keys = false;
};
std::string json_dumps(const Value& v, const JsonOptions& options);

}  // namespace ptft::jinja
