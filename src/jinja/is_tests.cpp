// jinja2's tests (`x is defined`, `x is divisibleby 3`, ...); see builtins.h.
#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

using Test = bool (*)(const Value&, CallArgs&, const RenderEnv&);

const Value& arg(CallArgs& a, const char* test, const char* param) {
  auto b = bind_args(test, a, {param});
  if (!b[0]) fail("TypeError", std::string("test_") + test + "() missing 1 required positional argument: '" + param + "'");
  a.positional = {*b[0]};
  return a.positional[0];
}

void no_args(CallArgs& a, const char* test) { bind_args(test, a, {}); }

bool t_defined(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "defined"), !v.is_undefined(); }
bool t_undefined(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "undefined"), v.is_undefined(); }
bool t_none(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "none"), v.is_none(); }
bool t_boolean(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "boolean"), v.is_bool(); }
bool t_true(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "true"), v.is_bool() && v.as_bool(); }
bool t_false(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "false"), v.is_bool() && !v.as_bool(); }
bool t_integer(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "integer"), v.is_int(); }
bool t_float(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "float"), v.is_float(); }
bool t_number(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "number"), v.is_number(); }
bool t_string(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "string"), v.is_str(); }
bool t_mapping(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "mapping"), v.is_dict(); }
bool t_iterable(const Value& v, CallArgs& a, const RenderEnv&) {
  no_args(a, "iterable");
  return v.is_undefined() || v.is_str() || v.is_sequence_like() || v.is_dict() || v.kind() == Value::Kind::kLoop;
}
bool t_sequence(const Value& v, CallArgs& a, const RenderEnv&) {
  no_args(a, "sequence");
  // len() and [] : not an iterator or a dict view.
  return v.is_undefined() || v.is_str() || v.is_tuple() || v.is_dict() ||
         (v.is_list() && !v.is_iterator() && !v.is_dict_view());
}
bool t_callable(const Value& v, CallArgs& a, const RenderEnv&) {
  no_args(a, "callable");
  return v.is_callable() || v.is_undefined();
}
bool t_escaped(const Value&, CallArgs& a, const RenderEnv&) { return no_args(a, "escaped"), false; }
bool t_lower(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "lower"), py::is_lower_str(v.str()); }
bool t_upper(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "upper"), py::is_upper_str(v.str()); }

// value % num == 0, with Python's % (a str on the left formats).
bool divisible(const Value& v, const Value& by) {
  RenderEnv env;
  return binary_op("%", v, by, env).equals(Value::integer(0));
}
bool t_even(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "even"), divisible(v, Value::integer(2)); }
bool t_odd(const Value& v, CallArgs& a, const RenderEnv&) {  // jinja2: value % 2 == 1 (so -0.5 is not odd)
  no_args(a, "odd");
  RenderEnv env;
  return binary_op("%", v, Value::integer(2), env).equals(Value::integer(1));
}
bool t_divisibleby(const Value& v, CallArgs& a, const RenderEnv&) { return divisible(v, arg(a, "divisibleby", "num")); }

bool t_eq(const Value& v, CallArgs& a, const RenderEnv&) { return v.equals(arg(a, "eq", "other")); }
bool t_ne(const Value& v, CallArgs& a, const RenderEnv&) { return !v.equals(arg(a, "ne", "other")); }
bool t_lt(const Value& v, CallArgs& a, const RenderEnv&) { return py_compare("<", v, arg(a, "lt", "other")); }
bool t_le(const Value& v, CallArgs& a, const RenderEnv&) { return py_compare("<=", v, arg(a, "le", "other")); }
bool t_gt(const Value& v, CallArgs& a, const RenderEnv&) { return py_compare(">", v, arg(a, "gt", "other")); }
bool t_ge(const Value& v, CallArgs& a, const RenderEnv&) { return py_compare(">=", v, arg(a, "ge", "other")); }
bool t_in(const Value& v, CallArgs& a, const RenderEnv&) { return py_contains(arg(a, "in", "seq"), v); }
// `is sameas`: Python identity; for the values a template compares that way (None, True,
// False) identity is equality of kind and value.
bool t_sameas(const Value& v, CallArgs& a, const RenderEnv&) {
  const Value& o = arg(a, "sameas", "other");
  if (v.is_none() || o.is_none()) return v.is_none() && o.is_none();
  if (v.is_bool() || o.is_bool()) return v.is_bool() && o.is_bool() && v.as_bool() == o.as_bool();
  if (v.is_undefined() || o.is_undefined()) return false;
  if (v.is_int() && o.is_int()) return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
  return (v.kind() == Value::Kind::kNamespace || v.is_callable()) && v.equals(o);
}

// `'tojson' is filter` / `'odd' is test`: whether jinja2 (with transformers' setup) knows the
// name — its full lists, so that a template branching on them takes jinja2's branch; using a
// filter ptft lacks is still an error, at parse time.
const char* const kJinjaFilters[] = {
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
    "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join", "last",
    "length", "list", "lower", "map", "max", "min", "pprint", "random", "reject", "rejectattr", "replace", "reverse",
    "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim",
    "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr"};
const char* const kJinjaTests[] = {
    "!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped",
    "even", "false", "filter", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan",
    "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true",
    "undefined", "upper"};

template <std::size_t N>
bool named_in(const Value& v, const char* const (&names)[N]) {
  if (!v.is_str()) return false;
  for (const char* n : names)
    if (v.as_str() == n) return true;
  return false;
}
bool t_filter(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "filter"), named_in(v, kJinjaFilters); }
bool t_test(const Value& v, CallArgs& a, const RenderEnv&) { return no_args(a, "test"), named_in(v, kJinjaTests); }

struct TestEntry {
  const char* name;
  Test fn;
};

const TestEntry kTests[] = {
    {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none},       {"boolean", t_boolean},
    {"true", t_true},       {"false", t_false},         {"integer", t_integer}, {"float", t_float},
    {"number", t_number},   {"string", t_string},       {"mapping", t_mapping}, {"iterable", t_iterable},
    {"sequence", t_sequence}, {"callable", t_callable}, {"escaped", t_escaped}, {"lower", t_lower},
    {"upper", t_upper},     {"even", t_even},           {"odd", t_odd},         {"divisibleby", t_divisibleby},
    {"eq", t_eq},           {"equalto", t_eq},          {"==", t_eq},           {"ne", t_ne},
    {"!=", t_ne},           {"lt", t_lt},               {"lessthan", t_lt},     {"<", t_lt},
    {"le", t_le},           {"<=", t_le},               {"gt", t_gt},           {"greaterthan", t_gt},
    {">", t_gt},            {"ge", t_ge},               {">=", t_ge},           {"in", t_in},
    {"sameas", t_sameas},   {"filter", t_filter},       {"test", t_test},
};

const TestEntry* find_test(const std::string& name) {
  for (const auto& t : kTests)
    if (name == t.name) return &t;
  return nullptr;
}

}  // namespace

bool has_test(const std::string& name) { return find_test(name) != nullptr; }

bool apply_test(const std::string& name, const Value& operand, CallArgs& args, const RenderEnv& env) {
  const TestEntry* t = find_test(name);
  if (!t) fail("ptft:unsupported", "unknown or unsupported test '" + name + "'");
  return t->fn(operand, args, env);
}

}  // namespace ptft::jinja
