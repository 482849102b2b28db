// jinja2's built-in filters used by chat templates, and transformers' tojson; see builtins.h.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

using Params = std::vector<const char*>;
using Filter = Value (*)(const Value&, CallArgs&, const RenderEnv&);

std::string soft_str(const Value& v) { return v.str(); }

bool truthy_arg(const std::optional<Value>& v, bool fallback) { return v ? v->truthy() : fallback; }

// jinja2's make_attrgetter: "a.b.0" looked up part by part with getitem.
Value get_attribute_path(const Value& item, const Value& attribute, const RenderEnv& env) {
  if (!attribute.is_str()) return get_item(item, attribute, env);
  Value v = item;
  for (const std::string& part : py::split(attribute.as_str(), std::string("."))) {
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    // jinja2 turns an all-digit part into an int index ("users.0.name"); past 18 digits no list is that long.
    v = get_item(v, digits ? Value::integer(part.size() > 18 ? INT64_MAX : std::strtoll(part.c_str(), nullptr, 10))
                           : Value::string(part), env);
  }
  return v;
}

// Sort key with jinja2's ignore_case (str lower-cased unless case_sensitive).
Value sort_key(const Value& item, const std::optional<Value>& attribute, bool case_sensitive, const RenderEnv& env) {
  Value v = attribute && !attribute->is_none() ? get_attribute_path(item, *attribute, env) : item;
  if (!case_sensitive && v.is_str()) return Value::string(py::lower(v.as_str()));
  return v;
}

// A generator of what `compute` yields; an error raised while computing it is raised when the
// generator is first used (jinja2's filters map, select, unique, items are generators).
template <class F>
Value generator(F compute) {
  try {
    return Value::iterator(compute());
  } catch (const RenderError& e) {
    return Value::failing_iterator(e);
  }
}

Value f_default(const Value& v, CallArgs& a, const RenderEnv&) {
  auto b = bind_args("default", a, {"default_value", "boolean"});
  if (v.is_undefined() || (truthy_arg(b[1], false) && !v.truthy())) return b[0] ? *b[0] : Value::string("");
  return v;
}

Value f_length(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("length", a, {});
  return Value::integer(v.length());
}

Value f_trim(const Value& v, CallArgs& a, const RenderEnv&) {
  auto b = bind_args("trim", a, {"chars"});
  std::optional<std::string> chars;
  if (b[0] && !b[0]->is_none()) {
    if (!b[0]->is_str()) fail("TypeError", "strip arg must be None or str");
    chars = b[0]->as_str();
  }
  return Value::string(py::strip(soft_str(v), chars));
}

Value f_lower(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("lower", a, {});
  return Value::string(py::lower(soft_str(v)));
}
Value f_upper(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("upper", a, {});
  return Value::string(py::upper(soft_str(v)));
}
Value f_capitalize(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("capitalize", a, {});
  return Value::string(py::capitalize(soft_str(v)));
}
Value f_title(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("title", a, {});
  return Value::string(py::jinja_title(soft_str(v)));
}
Value f_string(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("string", a, {});
  return v.is_str() ? v : Value::string(soft_str(v));
}
Value f_safe(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("safe", a, {});
  return v.is_str() ? v : Value::string(soft_str(v));
}

Value f_escape(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("escape", a, {});
  std::string out;
  for (char c : soft_str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out += c;
    }
  }
  return Value::string(std::move(out));
}

Value f_items(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("items", a, {});
  return generator([&] {
    ValueList out;
    if (v.is_undefined()) return out;
    if (!v.is_dict()) fail("TypeError", "Can only get item pairs from a mapping.");
    for (const auto& [k, x] : v.dict_items()) out.push_back(Value::tuple({k, x}));
    return out;
  });
}

Value f_list(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("list", a, {});
  return Value::list(v.iterate());
}

Value f_first(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("first", a, {});
  if (v.is_iterator()) {  // next(iter(x)): takes one item
    if (auto item = v.next_item()) return *item;
    return Value::undefined_hint("No first item, sequence was empty.");
  }
  ValueList items = v.iterate();
  if (items.empty()) return Value::undefined_hint("No first item, sequence was empty.");
  return items.front();
}

Value f_last(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("last", a, {});
  // next(iter(reversed(x))): needs a sequence or a dict.
  if (!(v.is_undefined() || v.is_str() || v.is_tuple() || v.is_dict() || (v.is_list() && !v.is_iterator())))
    fail("TypeError", py::repr(v.type_name()) + " object is not reversible");
  ValueList items = v.iterate();
  if (items.empty()) return Value::undefined_hint("No last item, sequence was empty.");
  return items.back();
}

Value f_join(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("join", a, {"d", "attribute"});
  const std::string sep = b[0] ? soft_str(*b[0]) : std::string();
  std::string out;
  bool first = true;
  for (const Value& item : v.iterate()) {
    if (!first) out += sep;
    first = false;
    out += soft_str(b[1] && !b[1]->is_none() ? get_attribute_path(item, *b[1], env) : item);
    check_string_size(out.size(), env);
  }
  return Value::string(std::move(out));
}

Value f_replace(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("replace", a, {"old", "new", "count"});
  if (!b[0] || !b[1]) fail("TypeError", "do_replace() missing required argument(s) 'old' / 'new'");
  int64_t count = -1;
  if (b[2] && !b[2]->is_none()) {
    if (!(b[2]->is_int() || b[2]->is_bool())) fail("TypeError", "'" + b[2]->type_name() + "' object cannot be interpreted as an integer");
    count = b[2]->as_int();
  }
  std::string out = py::replace(soft_str(v), soft_str(*b[0]), soft_str(*b[1]), count);
  check_string_size(out.size(), env);
  return Value::string(std::move(out));
}

Value f_reverse(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("reverse", a, {});
  if (v.is_str()) {
    std::u32string cps = py::decode(v.as_str());
    std::reverse(cps.begin(), cps.end());
    return Value::string(py::encode(cps));
  }
  const bool reversible = v.is_undefined() || v.is_tuple() || v.is_dict() || (v.is_list() && !v.is_iterator());
  if (!reversible && !v.is_iterator()) fail("FilterArgumentError", "argument must be iterable");
  ValueList items;
  try {
    items = v.iterate();
  } catch (const RenderError& e) {  // a generator's own TypeError, as jinja2 reports it
    if (reversible || e.type != "TypeError") throw;
    fail("FilterArgumentError", "argument must be iterable");
  }
  std::reverse(items.begin(), items.end());
  if (!reversible) return Value::list(std::move(items));  // list(x) reversed, for an iterator
  // reversed(x): an iterator
  return Value::iterator(std::move(items), v.is_list() && v.list_style() == Value::ListStyle::kPlain ? "list_reverseiterator"
                                           : v.is_dict() ? "dict_reversekeyiterator" : "reversed");
}

ValueList sorted(ValueList items, const std::optional<Value>& attribute, bool case_sensitive, bool reverse,
                 const RenderEnv& env) {
  std::vector<std::pair<Value, Value>> keyed;
  keyed.reserve(items.size());
  for (Value& item : items) keyed.emplace_back(sort_key(item, attribute, case_sensitive, env), std::move(item));
  // Python's sort with reverse=True keeps equal items in their original order too.
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? py_less(y.first, x.first, "<") : py_less(x.first, y.first, "<");
  });
  ValueList out;
  out.reserve(keyed.size());
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return out;
}

Value f_sort(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("sort", a, {"reverse", "case_sensitive", "attribute"});
  return Value::list(sorted(v.iterate(), b[2], truthy_arg(b[1], false), truthy_arg(b[0], false), env));
}

Value f_dictsort(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("dictsort", a, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) fail("TypeError", "dictsort needs a mapping");
  const std::string by = b[1] ? soft_str(*b[1]) : "key";
  if (by != "key" && by != "value") fail("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  ValueList items;
  for (const auto& [k, x] : v.dict_items()) items.push_back(Value::tuple({k, x}));
  return Value::list(sorted(std::move(items), Value::integer(by == "key" ? 0 : 1), truthy_arg(b[0], false),
                            truthy_arg(b[2], false), env));
}

Value f_unique(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("unique", a, {"case_sensitive", "attribute"});
  return generator([&] {
    ValueList seen, out;
    for (const Value& item : v.iterate()) {
      Value key = sort_key(item, b[1], truthy_arg(b[0], false), env);
      if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return s.equals(key); })) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return out;
  });
}

Value min_max(const Value& v, CallArgs& a, const RenderEnv& env, bool want_max) {
  auto b = bind_args(want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
  const ValueList items = v.iterate();
  if (items.empty()) return Value::undefined_hint("No aggregated item, sequence was empty.");
  std::size_t best = 0;
  Value best_key = sort_key(items[0], b[1], truthy_arg(b[0], false), env);
  for (std::size_t i = 1; i < items.size(); ++i) {
    Value k = sort_key(items[i], b[1], truthy_arg(b[0], false), env);
    if (want_max ? py_less(best_key, k, "<") : py_less(k, best_key, "<")) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}
Value f_max(const Value& v, CallArgs& a, const RenderEnv& env) { return min_max(v, a, env, true); }
Value f_min(const Value& v, CallArgs& a, const RenderEnv& env) { return min_max(v, a, env, false); }

Value f_sum(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("sum", a, {"attribute", "start"});
  Value total = b[1] ? *b[1] : Value::integer(0);
  for (const Value& item : v.iterate())
    total = binary_op("+", total, b[0] && !b[0]->is_none() ? get_attribute_path(item, *b[0], env) : item, env);
  return total;
}

// map / select / reject / selectattr / rejectattr: the first argument(s) name what to apply.
Value f_map(const Value& v, CallArgs& a, const RenderEnv& env) {
  if (a.positional.empty()) {
    auto b = bind_args("map", a, {"attribute", "default"});
    if (!b[0]) fail("FilterArgumentError", "map requires a filter argument");
    return generator([&] {
      ValueList out;
      for (const Value& item : v.iterate()) {
        Value x = get_attribute_path(item, *b[0], env);
        out.push_back(x.is_undefined() && b[1] ? *b[1] : x);
      }
      return out;
    });
  }
  if (!a.positional[0].is_str()) fail("FilterArgumentError", "map's first argument names a filter");
  const std::string name = a.positional[0].as_str();
  return generator([&] {
    ValueList out;
    for (const Value& item : v.iterate()) {
      CallArgs rest{{a.positional.begin() + 1, a.positional.end()}, a.keyword};
      out.push_back(env.filter(name, item, rest));
    }
    return out;
  });
}

Value select_impl(const Value& v, CallArgs& a, const RenderEnv& env, bool with_attr, bool keep_if) {
  std::size_t next = 0;
  std::optional<Value> attr;
  if (with_attr) {
    if (a.positional.empty()) fail("FilterArgumentError", "Missing parameter for attribute name");
    attr = a.positional[next++];
  }
  std::optional<std::string> test;
  if (next < a.positional.size()) {
    if (!a.positional[next].is_str()) fail("FilterArgumentError", "the test name must be a string");
    test = a.positional[next++].as_str();
  }
  return generator([&] {
    ValueList out;
    for (const Value& item : v.iterate()) {
      const Value x = attr ? get_attribute_path(item, *attr, env) : item;
      bool ok;
      if (test) {
        CallArgs rest{{a.positional.begin() + static_cast<std::ptrdiff_t>(next), a.positional.end()}, a.keyword};
        ok = env.test(*test, x, rest);
      } else {
        ok = x.truthy();
      }
      if (ok == keep_if) out.push_back(item);
    }
    return out;
  });
}
Value f_select(const Value& v, CallArgs& a, const RenderEnv& env) { return select_impl(v, a, env, false, true); }
Value f_reject(const Value& v, CallArgs& a, const RenderEnv& env) { return select_impl(v, a, env, false, false); }
Value f_selectattr(const Value& v, CallArgs& a, const RenderEnv& env) { return select_impl(v, a, env, true, true); }
Value f_rejectattr(const Value& v, CallArgs& a, const RenderEnv& env) { return select_impl(v, a, env, true, false); }

// Python's int(str) for base 10: optional sign, digits with single '_' between, surrounding spaces.
std::optional<int64_t> parse_int(const std::string& text) {
  const std::string s = py::strip(text);
  std::string digits;
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i >= s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') digits += s[i];
    else if (s[i] == '_' && !digits.empty() && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') continue;
    else return std::nullopt;
  }
  errno = 0;
  const long long v = std::strtoll((negative ? "-" + digits : digits).c_str(), nullptr, 10);
  if (errno == ERANGE) fail("OverflowError", "integer does not fit in 64 bits (ptft's Jinja subset)");
  return v;
}

// Python's float(str): decimal / exponent forms, inf, nan, surrounding spaces.
std::optional<double> parse_float(const std::string& text) {
  const std::string s = py::strip(text);
  if (s.empty()) return std::nullopt;
  std::string clean;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    clean += s[i];
  }
  const std::string lowered = py::lower(clean);
  const std::string body = lowered[0] == '+' || lowered[0] == '-' ? lowered.substr(1) : lowered;
  if (body == "inf" || body == "infinity" || body == "nan") {
    const double x = body == "nan" ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    return lowered[0] == '-' ? -x : x;
  }
  if (body.empty() || body.find_first_not_of("0123456789.e+-") != std::string::npos || body.find('x') != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  const double x = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return x;
}

Value f_int(const Value& v, CallArgs& a, const RenderEnv&) {
  auto b = bind_args("int", a, {"default", "base"});
  const Value fallback = b[0] ? *b[0] : Value::integer(0);
  if (b[1] && !(b[1]->is_int() && b[1]->as_int() == 10)) fail("ptft:unsupported", "int(base=...) other than 10 is not in ptft's Jinja subset");
  v.require_defined();
  auto from_double = [&](double x) {
    if (std::isnan(x)) return fallback;
    if (std::isinf(x)) fail("OverflowError", "cannot convert float infinity to integer");
    if (std::fabs(x) >= 9.2e18) fail("OverflowError", "integer does not fit in 64 bits (ptft's Jinja subset)");
    return Value::integer(static_cast<int64_t>(std::trunc(x)));
  };
  if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
  if (v.is_float()) return from_double(v.as_double());
  if (v.is_str()) {
    if (auto i = parse_int(v.as_str())) return Value::integer(*i);
    if (auto x = parse_float(v.as_str())) return from_double(*x);
  }
  return fallback;
}

Value f_float(const Value& v, CallArgs& a, const RenderEnv&) {
  auto b = bind_args("float", a, {"default"});
  const Value fallback = b[0] ? *b[0] : Value::number(0.0);
  v.require_defined();
  if (v.is_number()) return Value::number(v.as_double());
  if (v.is_str())
    if (auto x = parse_float(v.as_str())) return Value::number(*x);
  return fallback;
}

Value f_abs(const Value& v, CallArgs& a, const RenderEnv&) {
  bind_args("abs", a, {});  // Python's abs(): Undefined has no __abs__, a TypeError like any other
  if (v.is_float()) return Value::number(std::fabs(v.as_double()));
  if (v.is_int() || v.is_bool()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) fail("OverflowError", "integer does not fit in 64 bits");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  fail("TypeError", "bad operand type for abs(): " + py::repr(v.type_name()));
}

// Python's round(x, n) on a float: correctly rounded, ties to even (glibc's printf rounds the
// exact binary value the same way).
double round_float(double x, int64_t precision) {
  if (!std::isfinite(x) || precision > 300) return x;
  if (precision < -300) return std::copysign(0.0, x);
  if (precision >= 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
    return std::strtod(buf, nullptr);
  }
  const double scale = std::pow(10.0, static_cast<double>(-precision));
  const double y = x / scale;
  double r = std::nearbyint(y);
  return std::copysign(r * scale, x);
}

// Python's round(int, n): the int itself for n >= 0, else to a multiple of 10^-n, ties to even.
int64_t round_int(int64_t x, int64_t precision) {
  if (precision >= 0) return x;
  if (precision < -18) return 0;
  int64_t unit = 1;
  for (int64_t i = 0; i < -precision; ++i) unit *= 10;
  int64_t q = x / unit, r = x % unit;
  if (r < 0) {  // floor division
    r += unit;
    q -= 1;
  }
  if (2 * r > unit || (2 * r == unit && (q & 1))) q += 1;
  return q * unit;
}

Value f_round(const Value& v, CallArgs& a, const RenderEnv&) {
  auto b = bind_args("round", a, {"precision", "method"});
  const int64_t precision = b[0] ? b[0]->require_defined().as_int() : 0;
  const std::string method = b[1] ? soft_str(*b[1]) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    fail("FilterArgumentError", "method must be common, ceil or floor");
  if (!v.is_number()) fail("TypeError", "type " + v.type_name() + " doesn't define __round__ method");
  if (method == "common") {
    if (!v.is_float()) return Value::integer(round_int(v.as_int(), precision));
    return Value::number(round_float(v.as_double(), precision));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.as_double() * scale;
  return Value::number((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Value f_indent(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("indent", a, {"width", "first", "blank"});
  std::string indention;
  if (b[0] && b[0]->is_str()) indention = b[0]->as_str();
  else indention = std::string(static_cast<std::size_t>(std::max<int64_t>(0, b[0] ? b[0]->require_defined().as_int() : 4)), ' ');
  const std::vector<std::string> lines = py::splitlines(soft_str(v) + "\n");
  std::string rv;
  if (truthy_arg(b[2], false)) {
    for (std::size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : std::string()) + lines[i];
  } else {
    rv = lines.empty() ? std::string() : lines[0];
    for (std::size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? std::string() : indention) + lines[i];
  }
  if (truthy_arg(b[1], false)) rv = indention + rv;
  check_string_size(rv.size(), env);
  return Value::string(std::move(rv));
}

Value f_tojson(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions o;
  o.ensure_ascii = truthy_arg(b[0], false);
  if (b[1] && !b[1]->is_none()) {
    if (b[1]->is_str()) o.indent = b[1]->as_str();
    else if (b[1]->is_int() || b[1]->is_bool()) o.indent = std::string(static_cast<std::size_t>(std::max<int64_t>(0, b[1]->as_int())), ' ');
    else fail("TypeError", "can't multiply sequence by non-int of type " + py::repr(b[1]->type_name()));
  }
  if (b[2] && !b[2]->is_none()) {
    if (!b[2]->is_sequence_like() || b[2]->items().size() != 2 || !b[2]->items()[0].is_str() || !b[2]->items()[1].is_str())
      fail("ValueError", "separators must be a pair of strings");
    o.separators = std::make_pair(b[2]->items()[0].as_str(), b[2]->items()[1].as_str());
  }
  o.sort_keys = truthy_arg(b[3], false);
  std::string out = json_dumps(v, o);
  check_string_size(out.size(), env);
  return Value::string(std::move(out));
}

Value f_attr(const Value& v, CallArgs& a, const RenderEnv& env) {
  auto b = bind_args("attr", a, {"name"});
  if (!b[0] || !b[0]->is_str()) fail("TypeError", "attr() needs an attribute name");
  // Python's getattr only: a dict's methods, not its keys; a namespace's or the loop's attributes.
  const std::string& name = b[0]->as_str();
  if (v.kind() == Value::Kind::kNamespace || v.kind() == Value::Kind::kLoop || v.is_undefined()) return get_attr(v, name, env);
  if (auto m = method_of(v, name, env)) return *m;
  return Value::undefined_member(v, Value::string(name));
}

// jinja2's format: soft_str(value) % (kwargs or args).
Value f_format(const Value& v, CallArgs& a, const RenderEnv& env) {
  if (!a.positional.empty() && !a.keyword.empty())
    fail("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
  Value values;
  if (!a.keyword.empty()) {
    ValueDict d;
    for (auto& [k, x] : a.keyword) d.emplace_back(Value::string(k), x);
    values = Value::dict(std::move(d));
  } else {
    values = Value::tuple(a.positional);
  }
  return Value::string(percent_format(soft_str(v), values, env));
}

struct FilterEntry {
  const char* name;
  Filter fn;
};

const FilterEntry kFilters[] = {
    {"abs", f_abs},         {"attr", f_attr},             {"capitalize", f_capitalize}, {"count", f_length},     {"d", f_default},
    {"default", f_default}, {"dictsort", f_dictsort},     {"e", f_escape},         {"escape", f_escape},
    {"first", f_first},     {"float", f_float},           {"format", f_format},           {"indent", f_indent},    {"int", f_int},
    {"items", f_items},     {"join", f_join},             {"last", f_last},        {"length", f_length},
    {"list", f_list},       {"lower", f_lower},           {"map", f_map},          {"max", f_max},
    {"min", f_min},         {"reject", f_reject},         {"rejectattr", f_rejectattr}, {"replace", f_replace},
    {"reverse", f_reverse}, {"round", f_round},           {"safe", f_safe},        {"select", f_select},
    {"selectattr", f_selectattr}, {"sort", f_sort},       {"string", f_string},    {"sum", f_sum},
    {"title", f_title},     {"tojson", f_tojson},         {"trim", f_trim},        {"unique", f_unique},
    {"upper", f_upper},
};

const FilterEntry* find_filter(const std::string& name) {
  for (const auto& f : kFilters)
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

bool has_filter(const std::string& name) { return find_filter(name) != nullptr; }

Value apply_filter(const std::string& name, const Value& operand, CallArgs& args, const RenderEnv& env) {
  const FilterEntry* f = find_filter(name);
  if (!f) fail("ptft:unsupported", "unknown or unsupported filter '" + name + "'");
  return f->fn(operand, args, env);
}

}  // namespace ptft::jinja
