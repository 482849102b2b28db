// Python's printf-style `str % values` (the `%` operator on a str, and jinja2's `format` filter);
// see builtins.h.
#include <cmath>
#include <cstdio>

#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

struct Spec {
  std::string flags;
  int width = -1;
  int precision = -1;
  char conversion = 0;
};

std::string pad(std::string s, const Spec& spec) {
  const auto len = static_cast<int>(py::length(s));
  if (spec.width <= len) return s;
  const std::string fill(static_cast<std::size_t>(spec.width - len), ' ');
  return spec.flags.find('-') != std::string::npos ? s + fill : fill + s;
}

template <class T>
std::string c_format(const Spec& spec, const char* length, char conversion, T value) {
  std::string fmt = "%" + spec.flags;
  if (spec.width >= 0) fmt += std::to_string(spec.width);
  if (spec.precision >= 0) fmt += "." + std::to_string(spec.precision);
  fmt += length;
  fmt += conversion;
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, fmt.c_str(), value);
  if (n < 0 || n >= static_cast<int>(sizeof buf)) fail("ptft:unsupported", "a %-format field wider than 500 characters");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string format_one(const Spec& spec, const Value& v) {
  switch (spec.conversion) {
    case 's': {
      std::string s = v.str();
      if (spec.precision >= 0) s = py::encode(py::decode(s).substr(0, static_cast<std::size_t>(spec.precision)));
      return pad(s, spec);
    }
    case 'r':
    case 'a': {
      std::string s = v.repr();
      if (spec.precision >= 0) s = py::encode(py::decode(s).substr(0, static_cast<std::size_t>(spec.precision)));
      return pad(s, spec);
    }
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
      v.require_defined();
      if (!v.is_number())
        fail("TypeError", std::string("%") + spec.conversion + " format: " +
                              (spec.conversion == 'd' || spec.conversion == 'i' || spec.conversion == 'u' ? "a real number" : "an integer") +
                              " is required, not " + v.type_name());
      if (v.is_float() && spec.conversion != 'd' && spec.conversion != 'i' && spec.conversion != 'u')
        fail("TypeError", std::string("%") + spec.conversion + " format: an integer is required, not float");
      if (v.is_float() && !std::isfinite(v.as_double())) fail("OverflowError", "cannot convert float infinity to integer");
      const long long x = v.is_float() ? static_cast<long long>(std::trunc(v.as_double())) : v.as_int();
      if (spec.conversion == 'o' && spec.flags.find('#') != std::string::npos) {
        Spec s = spec;
        s.flags.erase(s.flags.find('#'), 1);
        std::string digits = c_format(Spec{"", -1, s.precision, 0}, "ll", 'o', x < 0 ? -x : x);
        return pad((x < 0 ? "-0o" : "0o") + digits, s);  // Python's alternate octal form is 0o
      }
      if (x < 0 && (spec.conversion == 'x' || spec.conversion == 'X' || spec.conversion == 'o')) {
        Spec s = spec;
        return pad("-" + c_format(Spec{s.flags, -1, s.precision, 0}, "ll", spec.conversion, -x), s);
      }
      return c_format(spec, "ll", spec.conversion == 'u' || spec.conversion == 'i' ? 'd' : spec.conversion, x);
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      v.require_defined();
      if (!v.is_number()) fail("TypeError", "must be real number, not " + v.type_name());
      return c_format(spec, "", spec.conversion, v.as_double());
    }
    case 'c': {
      if (v.is_str() && py::length(v.as_str()) == 1) return pad(v.as_str(), spec);
      if (v.is_int() && v.as_int() >= 0 && v.as_int() <= 0x10FFFF) return pad(py::encode(std::u32string(1, static_cast<char32_t>(v.as_int()))), spec);
      fail("TypeError", "%c requires int or char");
    }
    default:
      fail("ValueError", std::string("unsupported format character '") + spec.conversion + "'");
  }
}

}  // namespace

std::string percent_format(const std::string& fmt, const Value& values, const RenderEnv& env) {
  // Python takes anything subscriptable but a tuple or str as a mapping: no "not all arguments
  // converted" check then, and %(name)s looks the name up in it.
  const bool mapping = values.is_dict() || values.is_undefined() ||
                       (values.is_list() && (values.list_style() == Value::ListStyle::kPlain ||
                                             values.list_style() == Value::ListStyle::kRange));
  const ValueList args = values.is_tuple() ? values.items() : ValueList{values};
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) fail("ValueError", "incomplete format");
    Spec spec;
    const Value* named = nullptr;
    if (fmt[i] == '(') {
      const std::size_t close = fmt.find(')', i);
      if (close == std::string::npos) fail("ValueError", "incomplete format key");
      if (!mapping) fail("TypeError", "format requires a mapping");
      values.require_defined();
      if (!values.is_dict()) fail("TypeError", "list indices must be integers or slices, not str");
      const std::string key = fmt.substr(i + 1, close - i - 1);
      named = values.find(key);
      if (!named) fail("KeyError", py::repr(key));
      i = close + 1;
    }
    while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos) spec.flags += fmt[i++];
    auto number = [&](int* target) {
      if (i < fmt.size() && fmt[i] == '*') fail("ptft:unsupported", "'*' widths in %-formatting are not in ptft's Jinja subset");
      if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        *target = 0;
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') *target = std::min(*target * 10 + (fmt[i++] - '0'), 100000);
      }
    };
    number(&spec.width);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      spec.precision = 0;
      number(&spec.precision);
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) fail("ValueError", "incomplete format");
    spec.conversion = fmt[i];
    if (spec.conversion == '%') {
      out += '%';
      continue;
    }
    if (!named) {
      if (next >= args.size()) fail("TypeError", "not enough arguments for format string");
      named = &args[next++];  // for a mapping: the mapping itself ("%s" % {'a': 1})
    }
    out += format_one(spec, *named);
    check_string_size(out.size(), env);
  }
  if (!mapping && next < args.size()) fail("TypeError", "not all arguments converted during string formatting");
  return out;
}

}  // namespace ptft::jinja
