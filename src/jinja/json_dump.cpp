// Python's json.dumps, as transformers' `tojson` filter calls it; see builtins.h.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "builtins.h"
#include "py_str.h"

namespace ptft::jinja {
namespace {

void quote(const std::string& s, bool ensure_ascii, std::string& out) {
  char buf[16];
  out += '"';
  auto escape_unit = [&](unsigned u) {
    std::snprintf(buf, sizeof buf, "\\u%04x", u);
    out += buf;
  };
  for (char32_t c : py::decode(s)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
          if (c > 0xFFFF) {
            const char32_t v = c - 0x10000;
            escape_unit(0xD800 | static_cast<unsigned>(v >> 10));
            escape_unit(0xDC00 | static_cast<unsigned>(v & 0x3FF));
          } else {
            escape_unit(static_cast<unsigned>(c));
          }
        } else {
          out += py::encode(std::u32string(1, c));
        }
    }
  }
  out += '"';
}

std::string float_json(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return py::float_repr(x);
}

class Encoder {
 public:
  explicit Encoder(const JsonOptions& o) : o_(o) {
    item_sep_ = o.separators ? o.separators->first : (o.indent ? "," : ", ");
    key_sep_ = o.separators ? o.separators->second : ": ";
  }

  void encode(const Value& v, int level, std::string& out) {
    switch (v.kind()) {
      case Value::Kind::kNone: out += "null"; return;
      case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
      case Value::Kind::kFloat: out += float_json(v.as_double()); return;
      case Value::Kind::kStr: quote(v.as_str(), o_.ensure_ascii, out); return;
      case Value::Kind::kList:
        if (v.list_style() != Value::ListStyle::kPlain) break;
        [[fallthrough]];
      case Value::Kind::kTuple: {
        if (v.items().empty()) {
          out += "[]";
          return;
        }
        out += '[';
        const std::string sep = open(level, out);
        for (std::size_t i = 0; i < v.items().size(); ++i) {
          if (i) out += sep;
          encode(v.items()[i], level + 1, out);
        }
        close(level, out);
        out += ']';
        return;
      }
      case Value::Kind::kDict: {
        if (v.dict_items().empty()) {
          out += "{}";
          return;
        }
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : v.dict_items()) items.push_back(&kv);
        if (o_.sort_keys)
          std::stable_sort(items.begin(), items.end(),
                           [](const auto* a, const auto* b) { return py_less(a->first, b->first, "<"); });
        out += '{';
        const std::string sep = open(level, out);
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i) out += sep;
          quote(key_string(items[i]->first), o_.ensure_ascii, out);
          out += key_sep_;
          encode(items[i]->second, level + 1, out);
        }
        close(level, out);
        out += '}';
        return;
      }
      default: break;
    }
    fail("TypeError", "Object of type " + v.type_name() + " is not JSON serializable");
  }

 private:
  // After '[' / '{': the newline and indent of the first item; returns the separator between items.
  std::string open(int level, std::string& out) const {
    if (!o_.indent) return item_sep_;
    std::string newline_indent = "\n";
    for (int i = 0; i <= level; ++i) newline_indent += *o_.indent;
    out += newline_indent;
    return item_sep_ + newline_indent;
  }
  void close(int level, std::string& out) const {
    if (!o_.indent) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += *o_.indent;
  }

  static std::string key_string(const Value& k) {
    switch (k.kind()) {
      case Value::Kind::kStr: return k.as_str();
      case Value::Kind::kBool: return k.as_bool() ? "true" : "false";
      case Value::Kind::kNone: return "null";
      case Value::Kind::kInt: return std::to_string(k.as_int());
      case Value::Kind::kFloat: return float_json(k.as_double());
      default: fail("TypeError", "keys must be str, int, float, bool or None, not " + k.type_name());
    }
  }

  const JsonOptions& o_;
  std::string item_sep_, key_sep_;
};

}  // namespace

std::string json_dumps(const Value& v, const JsonOptions& options) {
  std::string out;
  Encoder(options).encode(v, 0, out);
  return out;
}

}  // namespace ptft::jinja
