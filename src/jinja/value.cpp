// Python semantics of template values; see value.h.
#include "value.h"

#include <algorithm>
#include <limits>

#include "py_str.h"

namespace ptft::jinja {

void fail(const std::string& type, const std::string& message) { throw RenderError{type, message, 0}; }

namespace {
// 1 + the deepest of `items`; an error past kMaxValueNesting.
template <class Range, class Get>
uint32_t container_depth(const Range& items, Get get) {
  uint32_t d = 0;
  for (const auto& item : items) d = std::max(d, get(item).nesting());
  if (d + 1 > kMaxValueNesting)
    fail("ptft:limit", "a value nested more than " + std::to_string(kMaxValueNesting) + " deep (lists, dicts, namespaces)");
  return d + 1;
}
const Value& self(const Value& v) { return v; }
const Value& second(const std::pair<Value, Value>& kv) { return kv.second; }
}  // namespace

uint32_t Value::nesting() const {
  if (kind_ == Kind::kNamespace) return ns_->depth;
  return depth_;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kStr;
  v.s_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
Value Value::list(ValueList items, ListStyle style) {
  Value v;
  v.kind_ = Kind::kList;
  v.style_ = style;
  v.depth_ = container_depth(items, self);
  v.list_ = std::make_shared<const ValueList>(std::move(items));
  return v;
}
Value Value::iterator(ValueList items, std::string type_name) {
  Value v = list(std::move(items), ListStyle::kIterator);
  v.iter_ = std::make_shared<IterState>();
  v.iter_->type_name = std::move(type_name);
  return v;
}

Value Value::failing_iterator(RenderError error) {
  Value v = iterator({});
  v.iter_->error = std::move(error);
  return v;
}

Value Value::range(int64_t start, int64_t stop, int64_t step) {
  ValueList items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.push_back(integer(i));
  Value v = list(std::move(items), ListStyle::kRange);
  v.i_ = start;
  v.range_stop_ = stop;
  v.range_step_ = step;
  return v;
}
Value Value::tuple(ValueList items) {
  Value v;
  v.kind_ = Kind::kTuple;
  v.depth_ = container_depth(items, self);
  v.list_ = std::make_shared<const ValueList>(std::move(items));
  return v;
}
Value Value::dict(ValueDict items) {
  Value v;
  v.kind_ = Kind::kDict;
  v.depth_ = container_depth(items, second);
  v.dict_ = std::make_shared<const ValueDict>(std::move(items));
  return v;
}
Value Value::namespace_object(std::shared_ptr<Namespace> ns) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.ns_ = std::move(ns);
  return v;
}
Value Value::loop(std::shared_ptr<LoopState> state) {
  Value v;
  v.kind_ = Kind::kLoop;
  v.loop_ = std::move(state);
  return v;
}
Value Value::callable(std::string name, std::function<Value(CallArgs&)> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}
Value Value::undefined_hint(const std::string& hint) {
  Value v;
  v.s_ = std::make_shared<const std::string>(hint);
  return v;
}
Value Value::undefined_name(const std::string& name) { return undefined_hint(py::repr(name) + " is undefined"); }
Value Value::undefined_member(const Value& owner, const Value& key) {
  if (key.is_str())
    return undefined_hint(py::repr(owner.object_description()) + " has no attribute " + py::repr(key.as_str()));
  return undefined_hint(owner.object_description() + " has no element " + key.repr());
}
Value Value::unsafe(const Value& owner, const std::string& attr) {
  Value v = undefined_hint("access to attribute " + py::repr(attr) + " of " + py::repr(owner.type_name()) +
                           " object is unsafe.");
  v.b_ = true;
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  using J = nlohmann::ordered_json;
  switch (j.type()) {
    case J::value_t::null: return none();
    case J::value_t::boolean: return boolean(j.get<bool>());
    case J::value_t::number_integer: return integer(j.get<int64_t>());
    case J::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return integer(static_cast<int64_t>(u));
      return number(static_cast<double>(u));
    }
    case J::value_t::number_float: return number(j.get<double>());
    case J::value_t::string: return string(j.get<std::string>());
    case J::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case J::value_t::object: {
      ValueDict items;
      items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) items.emplace_back(string(it.key()), from_json(it.value()));
      return dict(std::move(items));
    }
    default: fail("TypeError", "a template context value of JSON type '" + std::string(j.type_name()) + "' is not supported");
  }
}

void Value::raise_undefined() const {
  fail(b_ ? "SecurityError" : "UndefinedError", s_ ? *s_ : "None is undefined");
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined: case Kind::kNone: return false;
    case Kind::kBool: return b_;
    case Kind::kInt: return i_ != 0;
    case Kind::kFloat: return f_ != 0;
    case Kind::kStr: return !s_->empty();
    case Kind::kList: return style_ == ListStyle::kIterator || !list_->empty();  // a generator is always true
    case Kind::kTuple: return !list_->empty();
    case Kind::kDict: return !dict_->empty();
    default: return true;
  }
}

std::string Value::str() const {
  switch (kind_) {
    case Kind::kUndefined: return {};
    case Kind::kStr: return *s_;
    case Kind::kCallable:  // Python prints "<built-in method items of dict object at 0x7f...>"
      fail("ptft:unsupported", "printing " + fn_->name + " (a function, not its result: call it with ())");
    case Kind::kList:
      if (style_ == ListStyle::kIterator)  // Python prints "<generator object ... at 0x7f...>"
        fail("ptft:unsupported", "printing a " + iter_->type_name + " (Python prints its address): add |list");
      return repr();
    default: return repr();
  }
}

namespace {
std::string join_repr(const ValueList& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += items[i].repr();
  }
  return out;
}
}  // namespace

std::string Value::repr() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "None";
    case Kind::kBool: return b_ ? "True" : "False";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return py::float_repr(f_);
    case Kind::kStr: return py::repr(*s_);
    case Kind::kList:
      switch (style_) {
        case ListStyle::kDictItems: return "dict_items([" + join_repr(*list_) + "])";
        case ListStyle::kDictKeys: return "dict_keys([" + join_repr(*list_) + "])";
        case ListStyle::kDictValues: return "dict_values([" + join_repr(*list_) + "])";
        case ListStyle::kRange:
          return "range(" + std::to_string(i_) + ", " + std::to_string(range_stop_) +
                 (range_step_ != 1 ? ", " + std::to_string(range_step_) : std::string()) + ")";
        default: return "[" + join_repr(*list_) + "]";
      }
    case Kind::kTuple: return "(" + join_repr(*list_) + (list_->size() == 1 ? ",)" : ")");
    case Kind::kDict: {
      std::string out = "{";
      for (std::size_t i = 0; i < dict_->size(); ++i) {
        if (i) out += ", ";
        out += (*dict_)[i].first.repr() + ": " + (*dict_)[i].second.repr();
      }
      return out + "}";
    }
    case Kind::kNamespace: {
      // A namespace can hold itself ({% set ns.me = ns %}); Python prints the inner one's attrs
      // as {...}.
      thread_local std::vector<const Namespace*> printing;
      if (std::find(printing.begin(), printing.end(), ns_.get()) != printing.end()) return "<Namespace {...}>";
      printing.push_back(ns_.get());
      std::string out = "<Namespace {";
      try {
        for (std::size_t i = 0; i < ns_->order.size(); ++i) {
          if (i) out += ", ";
          out += py::repr(ns_->order[i]) + ": " + ns_->attrs.at(ns_->order[i]).repr();
        }
      } catch (...) {
        printing.pop_back();
        throw;
      }
      printing.pop_back();
      return out + "}>";
    }
    case Kind::kLoop:
      return "<LoopContext " + std::to_string(loop_->index0 + 1) + "/" + std::to_string(loop_->items->size()) + ">";
    case Kind::kCallable: return "<" + fn_->name + ">";
  }
  return {};
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kStr: return "str";
    case Kind::kList:
      switch (style_) {
        case ListStyle::kDictItems: return "dict_items";
        case ListStyle::kDictKeys: return "dict_keys";
        case ListStyle::kDictValues: return "dict_values";
        case ListStyle::kRange: return "range";
        case ListStyle::kIterator: return iter_->type_name;
        default: return "list";
      }
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kLoop: return "LoopContext";
    case Kind::kCallable: return "function";
  }
  return {};
}

std::string Value::object_description() const {
  switch (kind_) {
    case Kind::kNone: return "None";
    case Kind::kUndefined: return "jinja2.runtime.Undefined object";
    case Kind::kNamespace: return "jinja2.utils.Namespace object";
    case Kind::kLoop: return "jinja2.runtime.LoopContext object";
    default: return type_name() + " object";
  }
}

bool Value::equals(const Value& o) const {
  if (is_number() && o.is_number()) {
    if (kind_ == Kind::kFloat || o.kind_ == Kind::kFloat)  // long double holds every int64 and double exactly
      return (kind_ == Kind::kFloat ? static_cast<long double>(f_) : static_cast<long double>(as_int())) ==
             (o.kind_ == Kind::kFloat ? static_cast<long double>(o.f_) : static_cast<long double>(o.as_int()));
    return as_int() == o.as_int();
  }
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined: case Kind::kNone: return true;
    case Kind::kStr: return *s_ == *o.s_;
    case Kind::kList:
    case Kind::kTuple: {
      if (is_iterator() || o.is_iterator()) return list_ == o.list_;  // identity
      if (is_dict_view() != o.is_dict_view()) return false;
      if (list_->size() != o.list_->size()) return false;
      for (std::size_t i = 0; i < list_->size(); ++i)
        if (!(*list_)[i].equals((*o.list_)[i])) return false;
      return true;
    }
    case Kind::kDict: {
      if (dict_->size() != o.dict_->size()) return false;
      for (const auto& [k, v] : *dict_) {
        const Value* other = o.find(k);
        if (!other || !v.equals(*other)) return false;
      }
      return true;
    }
    case Kind::kNamespace: return ns_ == o.ns_;
    case Kind::kLoop: return loop_ == o.loop_;
    case Kind::kCallable: return fn_ == o.fn_;
    default: return false;
  }
}

const Value* Value::find(const Value& key) const {
  for (const auto& kv : *dict_)
    if (kv.first.equals(key)) return &kv.second;
  return nullptr;
}

const Value* Value::find(const std::string& key) const {
  for (const auto& kv : *dict_)
    if (kv.first.is_str() && kv.first.as_str() == key) return &kv.second;
  return nullptr;
}

ValueList Value::iterate() const {
  switch (kind_) {
    case Kind::kUndefined: return {};
    case Kind::kList:
      if (style_ == ListStyle::kIterator) {
        if (iter_->error) throw *iter_->error;
        ValueList rest(list_->begin() + static_cast<std::ptrdiff_t>(iter_->pos), list_->end());
        iter_->pos = list_->size();
        return rest;
      }
      return *list_;
    case Kind::kTuple: return *list_;
    case Kind::kDict: {
      ValueList keys;
      keys.reserve(dict_->size());
      for (const auto& kv : *dict_) keys.push_back(kv.first);
      return keys;
    }
    case Kind::kStr: {
      ValueList chars;
      for (char32_t c : py::decode(*s_)) chars.push_back(string(py::encode(std::u32string(1, c))));
      return chars;
    }
    default: fail("TypeError", py::repr(type_name()) + " object is not iterable");
  }
}

std::optional<Value> Value::next_item() const {
  if (iter_->error) throw *iter_->error;
  if (iter_->pos >= list_->size()) return std::nullopt;
  return (*list_)[iter_->pos++];
}

int64_t Value::length() const {
  switch (kind_) {
    case Kind::kUndefined: return 0;
    case Kind::kStr: return static_cast<int64_t>(py::length(*s_));
    case Kind::kList:
      if (style_ == ListStyle::kIterator) break;
      return static_cast<int64_t>(list_->size());
    case Kind::kTuple: return static_cast<int64_t>(list_->size());
    case Kind::kDict: return static_cast<int64_t>(dict_->size());
    default: break;
  }
  fail("TypeError", "object of type " + py::repr(type_name()) + " has no len()");
}

namespace {
long double as_long_double(const Value& v) {
  return v.is_float() ? static_cast<long double>(v.as_double()) : static_cast<long double>(v.as_int());
}
// a < b; `swapped`: the operator was written b OP a (names the types in source order).
bool less_impl(const Value& a, const Value& b, const char* op, bool swapped) {
  a.require_defined();
  b.require_defined();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return as_long_double(a) < as_long_double(b);
    return a.as_int() < b.as_int();
  }
  if (a.is_str() && b.is_str()) return a.as_str() < b.as_str();  // UTF-8 keeps code point order
  if ((a.is_list() && b.is_list() && a.list_style() == Value::ListStyle::kPlain &&
       b.list_style() == Value::ListStyle::kPlain) ||
      (a.is_tuple() && b.is_tuple())) {
    const ValueList& x = a.items();
    const ValueList& y = b.items();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!x[i].equals(y[i])) return less_impl(x[i], y[i], op, swapped);
    return x.size() < y.size();
  }
  const Value& first = swapped ? b : a;
  const Value& second = swapped ? a : b;
  fail("TypeError", std::string("'") + op + "' not supported between instances of " + py::repr(first.type_name()) +
                        " and " + py::repr(second.type_name()));
}
}  // namespace

bool py_less(const Value& a, const Value& b, const char* op) { return less_impl(a, b, op, false); }

bool py_compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return a.equals(b);
  if (op == "!=") return !a.equals(b);
  if (op == "<") return less_impl(a, b, "<", false);
  if (op == ">") return less_impl(b, a, ">", true);
  if (op == "<=") return less_impl(a, b, "<=", false) || a.equals(b);
  if (op == ">=") return less_impl(b, a, ">=", true) || a.equals(b);
  if (op == "in") return py_contains(b, a);
  if (op == "notin") return !py_contains(b, a);
  fail("TemplateError", "unknown comparison '" + op + "'");
}

bool py_contains(const Value& c, const Value& item) {
  switch (c.kind()) {
    case Value::Kind::kUndefined: return false;
    case Value::Kind::kStr:
      if (!item.is_str())
        fail("TypeError", "'in <string>' requires string as left operand, not " + item.type_name());
      return c.as_str().find(item.as_str()) != std::string::npos;
    case Value::Kind::kList: case Value::Kind::kTuple:
      if (c.is_iterator()) {  // consumes up to the match, as Python's `in` on an iterator
        while (auto v = c.next_item())
          if (v->equals(item)) return true;
        return false;
      }
      for (const Value& v : c.items())
        if (v.equals(item)) return true;
      return false;
    case Value::Kind::kDict:
      if (!item.hashable())
        fail("TypeError", "unhashable type: " + py::repr(item.type_name()));
      return c.find(item) != nullptr;
    default: fail("TypeError", "argument of type " + py::repr(c.type_name()) + " is not iterable");
  }
}

}  // namespace ptft::jinja
