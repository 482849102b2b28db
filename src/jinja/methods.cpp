// The str, dict, list and tuple methods templates call, as Python runs them in jinja2's immutable
// sandbox; see builtins.h.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

using Fn = std::function<Value(CallArgs&)>;

const char* const kStrMethods[] = {
    "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map",
    "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
    "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition",
    "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
    "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill"};
const char* const kDictMethods[] = {"clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault",
                                    "update", "values"};
const char* const kListMethods[] = {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove",
                                    "reverse", "sort"};
// What jinja2's ImmutableSandboxedEnvironment refuses (modifies_known_mutable).
const char* const kUnsafeDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
const char* const kUnsafeList[] = {"append", "reverse", "insert", "sort", "extend", "remove"};

template <std::size_t N>
bool in(const std::string& name, const char* const (&list)[N]) {
  return std::find_if(std::begin(list), std::end(list), [&](const char* m) { return name == m; }) != std::end(list);
}

std::optional<std::string> opt_str(const std::optional<Value>& v, const std::string& fn, const char* what) {
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_str()) fail("TypeError", fn + " " + what + " must be None or str, not " + v->type_name());
  return v->as_str();
}

const std::string& req_str(const std::optional<Value>& v, const std::string& fn) {
  if (!v) fail("TypeError", fn + "() takes at least 1 argument (0 given)");
  if (!v->is_str()) fail("TypeError", "must be str, not " + v->type_name());
  return v->as_str();
}

int64_t opt_int(const std::optional<Value>& v, int64_t fallback) {
  if (!v) return fallback;
  if (!(v->is_int() || v->is_bool()))
    fail("TypeError", py::repr(v->type_name()) + " object cannot be interpreted as an integer");
  return v->as_int();
}

Value str_list(const std::vector<std::string>& parts) {
  ValueList out;
  out.reserve(parts.size());
  for (const auto& p : parts) out.push_back(Value::string(p));
  return Value::list(std::move(out));
}

// str.format with automatic / numbered / named fields, optional !s / !r, no format spec.
std::string py_format(const std::string& fmt, CallArgs& args, const RenderEnv& env) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      fail("ValueError", "Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const std::size_t close = fmt.find('}', i);
    if (close == std::string::npos) fail("ValueError", "Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 0;
    if (const std::size_t bang = field.find('!'); bang != std::string::npos) {
      if (bang + 2 != field.size() || (field[bang + 1] != 's' && field[bang + 1] != 'r'))
        fail("ptft:unsupported", "str.format field {" + field + "} is not in ptft's Jinja subset (only {}, {0}, {name}, !s, !r)");
      conversion = field[bang + 1];
      field.resize(bang);
    }
    if (field.find_first_of(":.[") != std::string::npos)
      fail("ptft:unsupported", "str.format field {" + field + "} is not in ptft's Jinja subset (only {}, {0}, {name}, !s, !r)");
    const Value* v = nullptr;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      const std::size_t k = field.empty() ? auto_index++ : field.size() > 9 ? SIZE_MAX : std::strtoul(field.c_str(), nullptr, 10);
      if (k >= args.positional.size()) fail("IndexError", "Replacement index " + (field.empty() ? std::to_string(k) : field) + " out of range for positional args tuple");
      v = &args.positional[k];
    } else {
      for (const auto& kw : args.keyword)
        if (kw.first == field) v = &kw.second;
      if (!v) fail("KeyError", py::repr(field));
    }
    out += conversion == 'r' ? v->repr() : v->str();
    check_string_size(out.size(), env);
  }
  return out;
}

std::optional<Value> str_method(const std::string& s, const std::string& name, const RenderEnv& env) {
  const std::string fn = "str." + name;
  Fn f;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    f = [s, name, fn](CallArgs& a) {
      const auto chars = opt_str(bind_args(fn, a, {"chars"})[0], name, "arg");
      return Value::string(name == "strip" ? py::strip(s, chars) : name == "lstrip" ? py::lstrip(s, chars) : py::rstrip(s, chars));
    };
  } else if (name == "startswith" || name == "endswith") {
    f = [s, name, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"prefix", "start", "end"});
      if ((b[1] && !b[1]->is_none()) || (b[2] && !b[2]->is_none()))
        fail("ptft:unsupported", fn + "() with start/end is not in ptft's Jinja subset");
      if (!b[0]) fail("TypeError", name + "() takes at least 1 argument (0 given)");
      ValueList candidates = b[0]->is_tuple() ? b[0]->items() : ValueList{*b[0]};
      for (const Value& c : candidates) {
        if (!c.is_str())
          fail("TypeError", name + " first arg must be str or a tuple of str, not " + c.type_name());
        const std::string& p = c.as_str();
        if (p.size() <= s.size() &&
            (name == "startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0))
          return Value::boolean(true);
      }
      return Value::boolean(false);
    };
  } else if (name == "split" || name == "rsplit") {
    f = [s, name, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"sep", "maxsplit"});
      const auto sep = opt_str(b[0], "sep", "");
      if (sep && sep->empty()) fail("ValueError", "empty separator");
      const int64_t maxsplit = opt_int(b[1], -1);
      return str_list(name == "split" ? py::split(s, sep, maxsplit) : py::rsplit(s, sep, maxsplit));
    };
  } else if (name == "splitlines") {
    f = [s, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"keepends"});
      if (b[0] && b[0]->truthy()) fail("ptft:unsupported", "str.splitlines(keepends=True) is not in ptft's Jinja subset");
      return str_list(py::splitlines(s));
    };
  } else if (name == "replace") {
    f = [s, fn, &env](CallArgs& a) {
      auto b = bind_args(fn, a, {"old", "new", "count"});
      if (!b[1]) fail("TypeError", "replace expected at least 2 arguments, got " + std::to_string(a.positional.size()));
      std::string out = py::replace(s, req_str(b[0], fn), req_str(b[1], fn), opt_int(b[2], -1));
      check_string_size(out.size(), env);
      return Value::string(std::move(out));
    };
  } else if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    f = [s, name, fn](CallArgs& a) {
      bind_args(fn, a, {});
      return Value::string(name == "upper" ? py::upper(s) : name == "lower" ? py::lower(s)
                                                    : name == "title" ? py::title(s) : py::capitalize(s));
    };
  } else if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    f = [s, name, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"sub", "start", "end"});
      if ((b[1] && !b[1]->is_none()) || (b[2] && !b[2]->is_none()))
        fail("ptft:unsupported", fn + "() with start/end is not in ptft's Jinja subset");
      const std::string& sub = req_str(b[0], fn);
      if (name == "count") return Value::integer(py::count(s, sub));
      const int64_t at = name == "find" || name == "index" ? py::find(s, sub) : py::rfind(s, sub);
      if (at < 0 && (name == "index" || name == "rindex")) fail("ValueError", "substring not found");
      return Value::integer(at);
    };
  } else if (name == "removeprefix" || name == "removesuffix") {
    f = [s, name, fn](CallArgs& a) {
      const std::string& p = req_str(bind_args(fn, a, {"fix"})[0], fn);
      if (name == "removeprefix")
        return Value::string(s.compare(0, p.size(), p) == 0 && p.size() <= s.size() ? s.substr(p.size()) : s);
      return Value::string(p.size() <= s.size() && s.compare(s.size() - p.size(), p.size(), p) == 0
                               ? s.substr(0, s.size() - p.size()) : s);
    };
  } else if (name == "join") {
    f = [s, fn, &env](CallArgs& a) {
      auto b = bind_args(fn, a, {"iterable"});
      if (!b[0]) fail("TypeError", "str.join() takes exactly one argument (0 given)");
      std::string out;
      const ValueList items = b[0]->iterate();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_str())
          fail("TypeError", "sequence item " + std::to_string(i) + ": expected str instance, " + items[i].type_name() + " found");
        if (i) out += s;
        out += items[i].as_str();
        check_string_size(out.size(), env);
      }
      return Value::string(std::move(out));
    };
  } else if (name == "format") {
    f = [s, &env](CallArgs& a) { return Value::string(py_format(s, a, env)); };
  } else if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "islower" ||
             name == "isupper") {
    f = [s, name, fn](CallArgs& a) {
      bind_args(fn, a, {});
      return Value::boolean(name == "isdigit" ? py::is_digit_str(s) : name == "isalpha" ? py::is_alpha_str(s)
                          : name == "isalnum" ? py::is_alnum_str(s) : name == "isspace" ? py::is_space_str(s)
                          : name == "islower" ? py::is_lower_str(s) : py::is_upper_str(s));
    };
  } else if (in(name, kStrMethods)) {
    f = [fn](CallArgs&) -> Value { fail("ptft:unsupported", fn + "() is not in ptft's Jinja subset"); };
  } else {
    return std::nullopt;
  }
  return Value::callable(fn, std::move(f));
}

std::optional<Value> dict_method(const Value& d, const std::string& name) {
  const std::string fn = "dict." + name;
  if (in(name, kUnsafeDict)) return Value::unsafe(d, name);
  Fn f;
  if (name == "items" || name == "keys" || name == "values") {
    f = [d, name, fn](CallArgs& a) {
      bind_args(fn, a, {});
      ValueList out;
      for (const auto& [k, v] : d.dict_items())
        out.push_back(name == "items" ? Value::tuple({k, v}) : name == "keys" ? k : v);
      return Value::list(std::move(out), name == "items" ? Value::ListStyle::kDictItems
                                         : name == "keys" ? Value::ListStyle::kDictKeys : Value::ListStyle::kDictValues);
    };
  } else if (name == "get") {
    f = [d, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"key", "default"});
      if (!b[0]) fail("TypeError", "get expected at least 1 argument, got 0");
      if (!b[0]->hashable()) fail("TypeError", "unhashable type: " + py::repr(b[0]->type_name()));
      if (const Value* v = d.find(*b[0])) return *v;
      return b[1] ? *b[1] : Value::none();
    };
  } else if (name == "copy") {
    f = [d, fn](CallArgs& a) {
      bind_args(fn, a, {});
      return d;
    };
  } else if (in(name, kDictMethods)) {
    f = [fn](CallArgs&) -> Value { fail("ptft:unsupported", fn + "() is not in ptft's Jinja subset"); };
  } else {
    return std::nullopt;
  }
  return Value::callable(fn, std::move(f));
}

std::optional<Value> list_method(const Value& l, const std::string& name) {
  const std::string fn = l.type_name() + "." + name;
  if (l.is_list() && in(name, kUnsafeList)) return Value::unsafe(l, name);
  Fn f;
  if (name == "count") {
    f = [l, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"value"});
      if (!b[0]) fail("TypeError", "count() takes exactly one argument (0 given)");
      return Value::integer(std::count_if(l.items().begin(), l.items().end(), [&](const Value& v) { return v.equals(*b[0]); }));
    };
  } else if (name == "index") {
    f = [l, fn](CallArgs& a) {
      auto b = bind_args(fn, a, {"value"});
      if (!b[0]) fail("TypeError", "index expected at least 1 argument, got 0");
      for (std::size_t i = 0; i < l.items().size(); ++i)
        if (l.items()[i].equals(*b[0])) return Value::integer(static_cast<int64_t>(i));
      fail("ValueError", l.is_list() ? b[0]->repr() + " is not in list" : "tuple.index(x): x not in tuple");
    };
  } else if (name == "copy" && l.is_list()) {
    f = [l, fn](CallArgs& a) {
      bind_args(fn, a, {});
      return l;
    };
  } else if (l.is_list() && in(name, kListMethods)) {
    // list.pop / list.clear: jinja2's sandbox lets them mutate; ptft's values are immutable.
    f = [fn](CallArgs&) -> Value { fail("ptft:unsupported", fn + "() is not in ptft's Jinja subset (it mutates the list)"); };
  } else {
    return std::nullopt;
  }
  return Value::callable(fn, std::move(f));
}

}  // namespace

std::optional<Value> method_of(const Value& obj, const std::string& name, const RenderEnv& env) {
  if (obj.is_str()) return str_method(obj.as_str(), name, env);
  if (obj.is_dict()) return dict_method(obj, name);
  if (obj.is_list() && obj.list_style() == Value::ListStyle::kPlain) return list_method(obj, name);
  if (obj.is_tuple()) return list_method(obj, name);
  return std::nullopt;
}

}  // namespace ptft::jinja
