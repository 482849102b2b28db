// The global functions a chat template can call: range, namespace, dict (jinja2's defaults) and
// raise_exception, strftime_now (transformers'); see builtins.h.
#include <algorithm>
#include <ctime>

#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

int64_t range_arg(const Value& v) {
  v.require_defined();
  if (!(v.is_int() || v.is_bool())) fail("TypeError", py::repr(v.type_name()) + " object cannot be interpreted as an integer");
  return v.as_int();
}

Value range_fn(CallArgs& a) {
  if (!a.keyword.empty()) fail("TypeError", "range() takes no keyword arguments");
  const auto& p = a.positional;
  if (p.empty() || p.size() > 3) fail("TypeError", "range expected at most 3 arguments, got " + std::to_string(p.size()));
  const int64_t start = p.size() == 1 ? 0 : range_arg(p[0]);
  const int64_t stop = p.size() == 1 ? range_arg(p[0]) : range_arg(p[1]);
  const int64_t step = p.size() == 3 ? range_arg(p[2]) : 1;
  if (step == 0) fail("ValueError", "range() arg 3 must not be zero");
  const long double n = step > 0 ? (static_cast<long double>(stop) - start + step - 1) / step
                                  : (static_cast<long double>(start) - stop - step - 1) / -step;
  if (n > kMaxRange)
    fail("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  return Value::range(start, stop, step);
}

// dict(*args, **kwargs) as Python builds it: a mapping or (key, value) pairs, then keywords.
ValueDict build_dict(CallArgs& a, const char* fn) {
  if (a.positional.size() > 1) fail("TypeError", std::string(fn) + " expected at most 1 argument, got " + std::to_string(a.positional.size()));
  ValueDict out;
  auto put = [&](const Value& k, const Value& v) {
    for (auto& kv : out)
      if (kv.first.equals(k)) {
        kv.second = v;
        return;
      }
    out.emplace_back(k, v);
  };
  if (!a.positional.empty()) {
    const Value& src = a.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.dict_items()) put(k, v);
    } else {
      for (const Value& pair : src.iterate()) {
        if (!pair.is_sequence_like() || pair.items().size() != 2)
          fail("ValueError", "dictionary update sequence element has the wrong length; 2 is required");
        put(pair.items()[0], pair.items()[1]);
      }
    }
  }
  for (const auto& [k, v] : a.keyword) put(Value::string(k), v);
  return out;
}

std::string strftime_py(const std::string& format, const std::tm& now) {
  // datetime.strftime: %f (microseconds; the clock has whole seconds), %z and %Z (naive: empty)
  // are Python's own; the rest is the C library's.
  std::string fmt;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%' && i + 1 < format.size()) {
      const char c = format[i + 1];
      if (c == 'f') fmt += "000000";
      else if (c == 'z' || c == 'Z') {
      } else {
        fmt += format.substr(i, 2);
      }
      ++i;
    } else {
      fmt += format[i];
    }
  }
  std::tm t = now;
  char buf[1024];
  if (fmt.empty()) return {};
  const std::size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &t);
  if (n == 0) fail("ptft:unsupported", "strftime format " + py::repr(format) + " gives an empty or over-long result");
  return std::string(buf, n);
}

}  // namespace

void note_namespace_value(Namespace& ns, const Value& v) {
  const uint32_t d = v.nesting() + 1;
  if (d > kMaxValueNesting)
    fail("ptft:limit", "a value nested more than " + std::to_string(kMaxValueNesting) + " deep (lists, dicts, namespaces)");
  ns.depth = std::max(ns.depth, d);
}

std::vector<std::pair<std::string, Value>> make_globals(const RenderEnv& env) {
  std::vector<std::pair<std::string, Value>> g;
  g.emplace_back("range", Value::callable("range", range_fn));
  g.emplace_back("dict", Value::callable("dict", [](CallArgs& a) { return Value::dict(build_dict(a, "dict")); }));
  g.emplace_back("namespace", Value::callable("namespace", [&env](CallArgs& a) {
                   auto ns = std::make_shared<Namespace>();
                   if (env.namespaces) env.namespaces->push_back(ns);
                   for (auto& [k, v] : build_dict(a, "namespace")) {
                     if (!k.is_str()) fail("TypeError", "keywords must be strings");
                     if (!ns->attrs.count(k.as_str())) ns->order.push_back(k.as_str());
                     ns->attrs[k.as_str()] = v;
                     note_namespace_value(*ns, v);
                   }
                   return Value::namespace_object(ns);
                 }));
  g.emplace_back("raise_exception", Value::callable("raise_exception", [](CallArgs& a) -> Value {
                   auto b = bind_args("raise_exception", a, {"message"});
                   fail("TemplateError", b[0] ? b[0]->str() : std::string());
                 }));
  const std::tm now = env.now;
  g.emplace_back("strftime_now", Value::callable("strftime_now", [now](CallArgs& a) {
                   auto b = bind_args("strftime_now", a, {"format"});
                   if (!b[0] || !b[0]->is_str()) fail("TypeError", "strftime() argument 1 must be str");
                   return Value::string(strftime_py(b[0]->as_str(), now));
                 }));
  return g;
}

}  // namespace ptft::jinja
