// Python's operators, subscripts, slices and jinja2's sandboxed attribute lookup; see builtins.h.
#include <cmath>
#include <limits>

#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

[[noreturn]] void unsupported_operands(const std::string& op, const Value& a, const Value& b) {
  fail("TypeError", "unsupported operand type(s) for " + op + ": " + py::repr(a.type_name()) + " and " +
                        py::repr(b.type_name()));
}

[[noreturn]] void overflow() {
  fail("OverflowError", "integer result does not fit in 64 bits (ptft's Jinja subset computes with 64-bit integers)");
}

// a OP b with a 64-bit overflow check (Python's ints have no limit; ptft's do, loudly).
int64_t add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow();
  return r;
}
int64_t sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) overflow();
  return r;
}
int64_t mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow();
  return r;
}

// A Python list (not a dict view, range or iterator, which have no + or *).
bool plain_list(const Value& v) { return v.is_list() && v.list_style() == Value::ListStyle::kPlain; }

Value repeat(const Value& seq, int64_t times, const RenderEnv& env) {
  if (times <= 0) return seq.is_str() ? Value::string("") : seq.is_tuple() ? Value::tuple({}) : Value::list({});
  if (seq.is_str()) {
    check_string_size(seq.as_str().size() * static_cast<std::size_t>(times), env);
    std::string out;
    out.reserve(seq.as_str().size() * static_cast<std::size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += seq.as_str();
    return Value::string(std::move(out));
  }
  check_string_size(seq.items().size() * static_cast<std::size_t>(times) * sizeof(Value), env);
  ValueList out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// Python's float floor division and modulo (sign of the divisor).
double float_mod(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

double float_floordiv(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= 1.0;
  if (div == 0) return std::copysign(0.0, a / b);
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

Value int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) result = mul(result, base);
    exp >>= 1;
    if (exp > 0) base = mul(base, base);
  }
  return Value::integer(result);
}

int64_t as_index(const Value& v) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  fail("TypeError", "slice indices must be integers or None or have an __index__ method");
}

}  // namespace

void check_string_size(std::size_t bytes, const RenderEnv& env) {
  if (env.max_string_bytes && bytes > env.max_string_bytes)
    fail("ptft:limit", "the template built a value of " + std::to_string(bytes) + " bytes, over the output limit of " +
                           std::to_string(env.max_string_bytes) + " bytes");
}

std::vector<std::optional<Value>> bind_args(const std::string& fn, CallArgs& args, const std::vector<const char*>& params) {
  std::vector<std::optional<Value>> bound(params.size());
  if (args.positional.size() > params.size())
    fail("TypeError", fn + "() takes at most " + std::to_string(params.size()) + " argument(s) (" +
                          std::to_string(args.positional.size()) + " given)");
  for (std::size_t i = 0; i < args.positional.size(); ++i) bound[i] = args.positional[i];
  for (auto& [key, value] : args.keyword) {
    std::size_t i = 0;
    while (i < params.size() && key != params[i]) ++i;
    if (i == params.size()) fail("TypeError", fn + "() got an unexpected keyword argument " + py::repr(key));
    if (bound[i]) fail("TypeError", fn + "() got multiple values for argument " + py::repr(key));
    bound[i] = value;
  }
  return bound;
}

Value negate(const Value& a) {
  a.require_defined();
  if (a.is_float()) return Value::number(-a.as_double());
  if (a.is_int() || a.is_bool()) {
    if (a.as_int() == std::numeric_limits<int64_t>::min()) overflow();
    return Value::integer(-a.as_int());
  }
  fail("TypeError", "bad operand type for unary -: " + py::repr(a.type_name()));
}

Value binary_op(const std::string& op, const Value& a, const Value& b, const RenderEnv& env) {
  if (op == "%" && a.is_str()) return Value::string(percent_format(a.as_str(), b, env));  // str.__mod__ takes anything
  a.require_defined();
  b.require_defined();
  const bool ints = (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) return Value::integer(add(a.as_int(), b.as_int()));
    if (nums) return Value::number(a.as_double() + b.as_double());
    if (a.is_str() && b.is_str()) {
      check_string_size(a.as_str().size() + b.as_str().size(), env);
      return Value::string(a.as_str() + b.as_str());
    }
    if ((plain_list(a) && plain_list(b)) || (a.is_tuple() && b.is_tuple())) {
      ValueList out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
    }
    if (a.is_str() || plain_list(a) || a.is_tuple())
      fail("TypeError", "can only concatenate " + a.type_name() + " (not \"" + b.type_name() + "\") to " + a.type_name());
    unsupported_operands(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value::integer(sub(a.as_int(), b.as_int()));
    if (nums) return Value::number(a.as_double() - b.as_double());
    unsupported_operands(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value::integer(mul(a.as_int(), b.as_int()));
    if (nums) return Value::number(a.as_double() * b.as_double());
    const bool a_seq = a.is_str() || plain_list(a) || a.is_tuple();
    const bool b_seq = b.is_str() || plain_list(b) || b.is_tuple();
    if (a_seq && (b.is_int() || b.is_bool())) return repeat(a, b.as_int(), env);
    if (b_seq && (a.is_int() || a.is_bool())) return repeat(b, a.as_int(), env);
    if (a_seq || b_seq)
      fail("TypeError", "can't multiply sequence by non-int of type " + py::repr((a_seq ? b : a).type_name()));
    unsupported_operands(op, a, b);
  }
  if (op == "/") {
    if (!nums) unsupported_operands(op, a, b);
    if (b.as_double() == 0) fail("ZeroDivisionError", ints ? "division by zero" : "float division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (!nums) unsupported_operands(op, a, b);
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) fail("ZeroDivisionError", op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) {
        if (op == "%") return Value::integer(0);
        overflow();
      }
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return Value::integer(op == "//" ? q : m);
    }
    if (b.as_double() == 0) fail("ZeroDivisionError", op == "//" ? "float floor division by zero" : "float modulo");
    return Value::number(op == "//" ? float_floordiv(a.as_double(), b.as_double()) : float_mod(a.as_double(), b.as_double()));
  }
  if (op == "**") {
    if (!nums) unsupported_operands("** or pow()", a, b);
    if (ints && b.as_int() >= 0) return int_pow(a.as_int(), b.as_int());
    if (a.as_double() == 0 && b.as_double() < 0)
      fail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    if (a.as_double() < 0 && std::floor(b.as_double()) != b.as_double())
      fail("ptft:unsupported", "a negative number to a fractional power is complex (not in ptft's Jinja subset)");
    return Value::number(std::pow(a.as_double(), b.as_double()));
  }
  fail("TemplateError", "unknown operator '" + op + "'");
}

Value slice_of(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  obj.require_defined();
  // jinja2 slices with Python's own subscript (no Undefined fallback as for x[key]).
  if (obj.is_dict()) fail("TypeError", "unhashable type: 'slice'");
  if (!(obj.is_str() || obj.is_tuple() ||
        (obj.is_list() && (obj.list_style() == Value::ListStyle::kPlain || obj.list_style() == Value::ListStyle::kRange))))
    fail("TypeError", py::repr(obj.type_name()) + " object is not subscriptable");
  const int64_t step = step_v.is_none() ? 1 : as_index(step_v);
  if (step == 0) fail("ValueError", "slice step cannot be zero");
  std::u32string cps;
  int64_t len;
  if (obj.is_str()) {
    cps = py::decode(obj.as_str());
    len = static_cast<int64_t>(cps.size());
  } else {
    len = static_cast<int64_t>(obj.items().size());
  }
  auto adjust = [&](const Value& v, bool is_start) {
    if (v.is_none()) return is_start ? (step < 0 ? len - 1 : 0) : (step < 0 ? -1 : len);
    int64_t i = as_index(v);
    if (i < 0) {
      i += len;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= len) {
      i = step < 0 ? len - 1 : len;
    }
    return i;
  };
  const int64_t start = adjust(start_v, true), stop = adjust(stop_v, false);
  if (obj.is_list() && obj.list_style() == Value::ListStyle::kRange) {  // a range's slice is a range
    const int64_t a = obj.range_start(), c = obj.range_step();
    return Value::range(a + start * c, a + stop * c, c * step);
  }
  std::u32string out_str;
  ValueList out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (obj.is_str()) out_str.push_back(cps[static_cast<std::size_t>(i)]);
    else out.push_back(obj.items()[static_cast<std::size_t>(i)]);
  }
  if (obj.is_str()) return Value::string(py::encode(out_str));
  return obj.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value get_item(const Value& obj, const Value& key, const RenderEnv& env) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined: obj.raise_undefined();
    case Value::Kind::kDict: {
      if (!key.hashable()) break;
      if (const Value* v = obj.find(key)) return *v;
      break;
    }
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kStr: {
      if (obj.is_iterator() || obj.is_dict_view()) break;  // not subscriptable: Undefined, as jinja2 gives
      if (!(key.is_int() || key.is_bool())) break;
      const int64_t len = obj.is_str() ? obj.length() : static_cast<int64_t>(obj.items().size());
      int64_t i = key.as_int();
      if (i < 0) i += len;
      if (i < 0 || i >= len) return Value::undefined_member(obj, key);
      if (obj.is_str()) {
        const std::u32string cps = py::decode(obj.as_str());
        return Value::string(py::encode(std::u32string(1, cps[static_cast<std::size_t>(i)])));
      }
      return obj.items()[static_cast<std::size_t>(i)];
    }
    default: break;
  }
  // jinja2 falls back to the attribute of that name for a str key.
  if (key.is_str() && !obj.is_dict()) return get_attr(obj, key.as_str(), env);
  if (key.is_str() && obj.is_dict()) {
    if (auto m = method_of(obj, key.as_str(), env)) return *m;
  }
  return Value::undefined_member(obj, key);
}

Value get_attr(const Value& obj, const std::string& name, const RenderEnv& env) {
  if (obj.is_undefined()) obj.raise_undefined();
  if (name.size() > 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0)
    return Value::unsafe(obj, name);
  switch (obj.kind()) {
    case Value::Kind::kDict: {
      if (auto m = method_of(obj, name, env)) return *m;
      if (const Value* v = obj.find(name)) return *v;
      break;
    }
    case Value::Kind::kStr:
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      if (auto m = method_of(obj, name, env)) return *m;
      break;
    case Value::Kind::kNamespace: {
      auto it = obj.ns().attrs.find(name);
      if (it != obj.ns().attrs.end()) return it->second;
      break;
    }
    case Value::Kind::kLoop: {
      const LoopState& l = obj.loop_state();
      const auto n = static_cast<int64_t>(l.items->size());
      const auto i = static_cast<int64_t>(l.index0);
      if (name == "index") return Value::integer(i + 1);
      if (name == "index0") return Value::integer(i);
      if (name == "revindex") return Value::integer(n - i);
      if (name == "revindex0") return Value::integer(n - i - 1);
      if (name == "first") return Value::boolean(i == 0);
      if (name == "last") return Value::boolean(i == n - 1);
      if (name == "length") return Value::integer(n);
      if (name == "depth") return Value::integer(l.depth0 + 1);
      if (name == "depth0") return Value::integer(l.depth0);
      if (name == "previtem")
        return i > 0 ? (*l.items)[static_cast<std::size_t>(i - 1)] : Value::undefined_hint("there is no previous item");
      if (name == "nextitem")
        return i + 1 < n ? (*l.items)[static_cast<std::size_t>(i + 1)] : Value::undefined_hint("there is no next item");
      if (name == "cycle") {
        const std::size_t index0 = l.index0;
        return Value::callable("loop.cycle", [index0](CallArgs& args) {
          if (args.positional.empty()) fail("TypeError", "no items for cycling given");
          return args.positional[index0 % args.positional.size()];
        });
      }
      if (name == "changed")
        fail("ptft:unsupported", "loop.changed() is not in ptft's Jinja subset");
      break;
    }
    default: break;
  }
  return Value::undefined_member(obj, Value::string(name));
}

}  // namespace ptft::jinja
