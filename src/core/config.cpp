// The non-template half of ptft/core/config.h: documents, --set, origins, scalar parsing,
// error messages, nearest-key search and YAML emission.
#include "ptft/core/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string_view>
#include <yaml-cpp/eventhandler.h>

#include "ptft/core/foreign_keys.h"
#include "ptft/core/fs.h"

namespace ptft::config {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// What follows the flow collection `text` starts with ("[32]junk" -> "junk"; "" when it is the
// whole value or `text` is not a flow collection). yaml-cpp stops at the closing bracket and
// ignores the rest, so "[32]junk" would silently mean [32].
std::string after_flow_collection(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty() || (t[0] != '[' && t[0] != '{')) return "";
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && --depth == 0) {
      const std::string rest = trim(t.substr(i + 1));
      return rest.empty() || rest[0] == '#' ? "" : rest;
    }
  }
  return "";
}

// "a.b.c" -> {"a", "b", "c"}; empty parts are kept so that callers can reject them.
std::vector<std::string> split_dotted(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// yaml-cpp 0.7's LoadAll never returns on a stray ',' outside brackets ("a: 1\n,", "{a: 1},"),
// adding a null document per turn until memory runs out (jbeder/yaml-cpp#1040, fixed upstream by
// #1319): its parser keeps handing out documents that consume nothing. This pass over the events
// (nothing is built) finds a document that starts where the previous one did and reports that
// token as a YAML error, so LoadAll only runs on streams that advance (found by fuzz_config_yaml).
class DocumentAdvanceCheck : public YAML::EventHandler {
 public:
  explicit DocumentAdvanceCheck(const std::string& text) : text_(text) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (started_ && mark.pos == last_.pos) {
      const char c = mark.pos >= 0 && std::size_t(mark.pos) < text_.size() ? text_[std::size_t(mark.pos)] : '?';
      throw YAML::ParserException(mark, std::string("unexpected '") + c + "' outside a [list] or {map}");
    }
    started_ = true;
    last_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  const std::string& text_;
  bool started_ = false;
  YAML::Mark last_;
};

// YAML::Exception when a document of `text` does not advance (see DocumentAdvanceCheck).
void check_documents_advance(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentAdvanceCheck check(text);
  while (parser.HandleNextDocument(check)) {
  }
}

std::string join_list(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string line_of(const std::string& source, const YAML::Mark& mark) {
  return source + ":" + std::to_string(mark.line + 1);
}

std::string shorten(const std::string& s, std::size_t max) {
  return s.size() <= max ? s : s.substr(0, max) + "...";
}

// How a value reads in "got ...".
std::string describe_got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined: return "nothing";
    case YAML::NodeType::Null: return "an empty value (null)";
    case YAML::NodeType::Scalar: return "'" + shorten(n.Scalar(), 60) + "'";
    case YAML::NodeType::Sequence: return "a list " + shorten(emit_inline(n), 40);
    case YAML::NodeType::Map: return "a section " + shorten(emit_inline(n), 40);
  }
  return "?";
}

// --- scalar parsing ------------------------------------------------------------------------

enum class Parse { kOk, kInvalid, kRange };

Parse parse_int(const std::string& s, std::int64_t& v) {
  std::string_view t = s;
  bool neg = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) return Parse::kInvalid;
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) base = 16;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O')) base = 8;
  if (base != 10) t.remove_prefix(2);
  std::uint64_t u = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), u, base);
  if (r.ec == std::errc::invalid_argument || r.ptr != t.data() + t.size()) return Parse::kInvalid;
  if (r.ec == std::errc::result_out_of_range) return Parse::kRange;
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!neg) {
    if (u > kMax) return Parse::kRange;
    v = static_cast<std::int64_t>(u);
  } else {
    if (u > kMax + 1) return Parse::kRange;
    v = u == kMax + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(u);
  }
  return Parse::kOk;
}

// Decimal/scientific text, "inf"/"nan", and YAML's ".inf", "-.inf", ".nan"; correctly rounded.
template <class F>
Parse parse_floating(const std::string& s, F& v) {
  std::string_view t = s;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (t.empty() || t[0] == '+' || (t[0] == '-' && (t.size() == 1 || t[1] == '+' || t[1] == '-')))
    return Parse::kInvalid;
  const bool neg = t[0] == '-';
  const std::string_view body = neg ? t.substr(1) : t;
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    v = neg ? -std::numeric_limits<F>::infinity() : std::numeric_limits<F>::infinity();
    return Parse::kOk;
  }
  if (!neg && (body == ".nan" || body == ".NaN" || body == ".NAN")) {
    v = std::numeric_limits<F>::quiet_NaN();
    return Parse::kOk;
  }
  F out{};
  const auto r = std::from_chars(t.data(), t.data() + t.size(), out, std::chars_format::general);
  if (r.ec == std::errc::invalid_argument || r.ptr != t.data() + t.size()) return Parse::kInvalid;
  if (r.ec == std::errc::result_out_of_range) return Parse::kRange;
  v = out;
  return Parse::kOk;
}

template <class F>
std::string format_floating(F v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip text
  const std::string s(buf, r.ptr);
  const auto e = s.find_first_of("eE");
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";  // so YAML 1.1 readers see a float
  if (e == std::string::npos) return mantissa;
  std::string exp = s.substr(e + 1);  // "-04" / "+20"
  std::string sign = "+";
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
    sign = exp.substr(0, 1);
    exp = exp.substr(1);
  }
  const auto nz = exp.find_first_not_of('0');
  exp = nz == std::string::npos ? "0" : exp.substr(nz);
  return mantissa + "e" + sign + exp;
}

// --- emission ------------------------------------------------------------------------------

bool is_null_word(const std::string& s) {
  return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool is_bool_word(const std::string& s) {
  static const char* kWords[] = {"y", "yes", "n", "no", "true", "false", "on", "off"};
  const std::string l = lower(s);
  for (const char* w : kWords) {
    // YAML 1.1 accepts "yes", "Yes", "YES" but not "yEs"; quoting all case variants is harmless.
    if (l == w) return true;
  }
  return false;
}

// A string that a YAML reader would take for something else when written plain.
bool needs_quotes(const YAML::Node& n) {
  if (n.Tag() != "!") return false;  // not known to be a string: write it as it is
  const std::string& s = n.Scalar();
  if (s.empty() || is_null_word(s) || is_bool_word(s)) return true;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) return true;  // numbers, dates, 1:20
  std::int64_t i;
  double d;
  return parse_int(s, i) != Parse::kInvalid || parse_floating(s, d) != Parse::kInvalid;
}

bool all_scalars(const YAML::Node& seq) {
  for (auto it = seq.begin(); it != seq.end(); ++it) {
    const YAML::Node e = *it;
    if (!e.IsScalar() && !e.IsNull()) return false;
  }
  return true;
}

void emit_node(YAML::Emitter& e, const YAML::Node& n, bool flow) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      e << YAML::Null;
      break;
    case YAML::NodeType::Scalar:
      if (needs_quotes(n)) e << YAML::DoubleQuoted;
      e << n.Scalar();
      break;
    case YAML::NodeType::Sequence: {
      const bool f = flow || n.size() == 0 || n.Style() == YAML::EmitterStyle::Flow || all_scalars(n);
      e << (f ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (auto it = n.begin(); it != n.end(); ++it) emit_node(e, *it, f);
      e << YAML::EndSeq;
      break;
    }
    case YAML::NodeType::Map: {
      const bool f = flow || n.size() == 0 || n.Style() == YAML::EmitterStyle::Flow;
      e << (f ? YAML::Flow : YAML::Block) << YAML::BeginMap;
      for (auto it = n.begin(); it != n.end(); ++it) {
        e << YAML::Key;
        emit_node(e, it->first, f);
        e << YAML::Value;
        emit_node(e, it->second, f);
      }
      e << YAML::EndMap;
      break;
    }
  }
}

std::string emit_with(const YAML::Node& node, bool flow) {
  YAML::Emitter e;
  emit_node(e, node, flow);
  if (!e.good()) throw InternalError("config: emitting YAML failed: " + e.GetLastError());
  return e.c_str();
}

// --- nearest -------------------------------------------------------------------------------

// Optimal string alignment distance: insert, delete, substitute, swap of neighbours = 1.
std::size_t osa_distance(const std::string& a, const std::string& b) {
  // Three rolling rows (i-2, i-1, i) rather than the whole (n+1) x (m+1) table: a key of a
  // megabyte must not cost a table of megabytes per candidate (found by fuzz_config_yaml).
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> before(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

constexpr std::size_t kFar = std::numeric_limits<std::size_t>::max();

// Distance when `typed` is a plausible misspelling of `cand`, else kFar. Both lower-case.
std::size_t closeness(const std::string& typed, const std::string& cand) {
  if (typed == cand) return 0;
  const std::size_t len = typed.size();
  const std::size_t limit = len <= 1 ? 0 : len <= 4 ? 1 : len <= 8 ? 2 : 3;
  // The distance is at least the difference in length: no need to compute it when that is over.
  const std::size_t gap = typed.size() > cand.size() ? typed.size() - cand.size() : cand.size() - typed.size();
  if (gap <= limit) {
    const std::size_t d = osa_distance(typed, cand);
    if (d <= limit) return d;
  }
  // An abbreviation ("sched" for "schedule") or an extension ("steps_total" for "steps").
  const bool prefix = typed.size() >= 3 && cand.size() >= 3 &&
                      (cand.rfind(typed, 0) == 0 || typed.rfind(cand, 0) == 0);
  return prefix ? limit + 1 : kFar;
}

std::string last_part(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

}  // namespace

// --- Document ------------------------------------------------------------------------------

Document::Document() : Document(YAML::Node(YAML::NodeType::Map), "<defaults>") {}

Document::Document(YAML::Node root, std::string source)
    : root_(std::move(root)), source_(std::move(source)) {}

Document Document::empty() { return Document(); }

Document Document::from_file(const std::string& path) {
  return from_string(fs::read_file(path, "config file"), path);
}

Document Document::from_string(const std::string& text, const std::string& origin) {
  std::vector<YAML::Node> docs;
  try {
    check_documents_advance(text);
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      throw UserError(origin + ": invalid YAML: " + e.msg,
                      "check the indentation (spaces, not tabs) and the quoting");
    }
    const std::string line = std::to_string(e.mark.line + 1);
    throw UserError(origin + ":" + line + ":" + std::to_string(e.mark.column + 1) +
                        ": invalid YAML: " + e.msg,
                    "check the indentation (spaces, not tabs) and the quoting near line " + line);
  }
  if (docs.size() > 1) {
    throw UserError(origin + ": holds " + std::to_string(docs.size()) +
                        " YAML documents (separated by '---'), expected one",
                    "keep one document per config file");
  }
  YAML::Node root = docs.empty() ? YAML::Node(YAML::NodeType::Map) : docs[0];
  if (root.IsNull()) root.reset(YAML::Node(YAML::NodeType::Map));  // empty or all comments
  if (!root.IsMap()) {
    throw UserError(origin + ": the top level must be a section (key: value map), got " +
                        describe_got(root),
                    "write 'key: value' lines, e.g. 'train: {steps: 100}'");
  }
  return Document(root, origin);
}

void Document::fill_defaults(const std::string& section, const YAML::Node& defaults, const std::string& origin) {
  if (!defaults.IsMap()) throw UserError(origin + ": expected a map of keys", "write `key: value` lines");
  const YAML::Node& croot = root_;
  if (!croot[section] || !croot[section].IsMap()) root_[section] = YAML::Node(YAML::NodeType::Map);
  YAML::Node sec = root_[section];
  const YAML::Node& csec = sec;
  for (const auto& kv : defaults) {
    const std::string key = kv.first.as<std::string>();
    if (csec[key]) continue;  // the user's value wins
    sec[key] = YAML::Clone(kv.second);
    overrides_[section + "." + key] = origin;
  }
}

void Document::set(const std::string& assignment) {
  const std::string origin = "--set " + assignment;
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos) {
    throw UserError("--set '" + assignment + "': expected key=value",
                    "e.g. --set train.lr=3e-4 or --set finetune.lora.targets=[c_attn,c_proj]");
  }
  const std::string key = trim(assignment.substr(0, eq));
  if (key.empty()) {
    throw UserError("--set '" + assignment + "': the key before '=' is empty",
                    "e.g. --set train.lr=3e-4");
  }
  const std::vector<std::string> parts = split_dotted(key);
  for (const auto& p : parts) {
    if (p.empty()) {
      throw UserError("--set '" + assignment + "': key '" + key + "' has an empty part",
                      "write dotted keys like train.lr, without leading, trailing or double dots");
    }
  }
  YAML::Node value;
  if (const std::string rest = after_flow_collection(assignment.substr(eq + 1)); !rest.empty())
    throw UserError(origin + ": text after the closing bracket ('" + rest + "')",
                    "remove it, or quote the whole value: --set " + key + "='\"...\"'");
  try {
    value.reset(YAML::Load(assignment.substr(eq + 1)));
  } catch (const YAML::Exception& e) {
    throw UserError(origin + ": the value is not valid YAML: " + e.msg,
                    "quote a value with special characters: --set " + key + "='\"...\"'");
  }

  // Forget overrides inside a subtree that this assignment replaces.
  auto replace = [this, &origin](const std::string& path) {
    for (auto it = overrides_.begin(); it != overrides_.end();) {
      if (it->first == path || it->first.rfind(path + ".", 0) == 0) {
        it = overrides_.erase(it);
      } else {
        ++it;
      }
    }
    overrides_[path] = origin;
  };
  // Remove then insert (rather than assign) so that nodes shared elsewhere, e.g. through a YAML
  // anchor or a bound YAML::Node field, are not written through.
  auto put = [](YAML::Node& map, const std::string& k, const YAML::Node& v) {
    map.remove(k);
    map[k] = v;
  };

  YAML::Node cur = root_;
  std::string path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    path = detail::join(path, parts[i]);
    const std::optional<YAML::Node> child = detail::find_entry(cur, parts[i]);
    if (child && child->IsMap()) {
      cur.reset(*child);
      continue;
    }
    YAML::Node fresh(YAML::NodeType::Map);
    put(cur, parts[i], fresh);
    replace(path);
    cur.reset(fresh);
  }
  put(cur, parts.back(), value);
  replace(key);
}

const std::string* Document::override_of(const std::string& dotted_key) const {
  if (overrides_.empty() || dotted_key.empty()) return nullptr;
  std::string prefix = dotted_key;
  while (true) {
    const auto it = overrides_.find(prefix);
    if (it != overrides_.end()) return &it->second;
    const auto dot = prefix.rfind('.');
    if (dot == std::string::npos) return nullptr;
    prefix.resize(dot);
  }
}

std::string Document::origin_of(const std::string& dotted_key) const {
  if (const std::string* o = override_of(dotted_key)) return *o;
  std::string best = source_;
  if (dotted_key.empty()) return best;
  YAML::Node cur = root_;
  for (const auto& part : split_dotted(dotted_key)) {
    if (!cur.IsMap()) break;
    bool found = false;
    for (auto it = cur.begin(); it != cur.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == part) {
        if (!it->first.Mark().is_null()) best = line_of(source_, it->first.Mark());
        cur.reset(it->second);
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  return best;
}

// --- detail --------------------------------------------------------------------------------

namespace detail {

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string Where::origin() const {
  std::string base;  // the dotted key without list indices
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '[') {
      i = key.find(']', i);
      if (i == std::string::npos) break;
    } else {
      base += key[i];
    }
  }
  if (const std::string* o = doc->override_of(base)) return *o;
  if (!mark.is_null()) return line_of(doc->source_, mark);
  return doc->origin_of(base);
}

Where Where::element(std::size_t i, const YAML::Node& node) const {
  return Where{doc, key + "[" + std::to_string(i) + "]", node.Mark()};
}

Where Where::entry(const std::string& name, const YAML::Node& key_node) const {
  return Where{doc, join(key, name), key_node.Mark()};
}

void fail_type(const Where& w, const std::string& expected, const YAML::Node& got,
               const std::string& hint) {
  throw UserError(w.origin() + ": '" + w.key + "' must be " + expected + ", got " +
                      describe_got(got),
                  hint);
}

void fail_null(const Where& w, const std::string& expected, const std::string& default_text) {
  throw UserError(w.origin() + ": '" + w.key + "' must be " + expected +
                      ", got an empty value (null)",
                  "give a value, or leave '" + w.key + "' out to keep the default (" +
                      default_text + ")");
}

void fail_duplicate_declaration(const std::string& path, const std::string& key) {
  throw InternalError("config struct for section '" + path + "' declares key '" + key + "' twice",
                      "each field of a config struct needs its own key in visit()");
}

void check_choice(const Where& w, const std::string& value,
                  const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  const std::string near = nearest(value, allowed);
  throw UserError(w.origin() + ": '" + w.key + "' must be one of " + join_list(allowed, ", ") +
                      "; got '" + value + "'",
                  near.empty() ? "" : "did you mean '" + near + "'?");
}

std::optional<YAML::Node> find_entry(const YAML::Node& map, const std::string& key) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return YAML::Node(it->second);
  }
  return std::nullopt;
}

void check_keys(const Document& doc, const YAML::Node& map, const std::string& path,
                const std::vector<std::string>& declared, const std::vector<std::string>& all_keys) {
  const std::string valid =
      declared.empty() ? (path.empty() ? "no keys are valid here" : "'" + path + "' takes no keys")
      : path.empty()   ? "valid top-level keys: " + join_list(declared, ", ")
                       : "valid keys under '" + path + "': " + join_list(declared, ", ");
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node k = it->first;
    if (!k.IsScalar()) {
      throw UserError(Where{&doc, path, k.Mark()}.origin() + ": keys" +
                          (path.empty() ? "" : " under '" + path + "'") +
                          " must be plain names, got " + describe_got(k),
                      valid);
    }
    const std::string& name = k.Scalar();
    const std::string full = join(path, name);
    const Where w{&doc, full, k.Mark()};
    if (const auto first = seen.find(name); first != seen.end()) {
      throw UserError(w.origin() + ": duplicate key '" + full + "'" +
                          (first->second.is_null()
                               ? ""
                               : " (first given at line " +
                                     std::to_string(first->second.line + 1) + ")"),
                      "delete one of them");
    }
    seen.emplace(name, k.Mark());
    if (std::find(declared.begin(), declared.end(), name) != declared.end()) continue;

    std::string hint;
    if (name.find('.') != std::string::npos &&
        std::find(all_keys.begin(), all_keys.end(), full) != all_keys.end()) {
      const std::vector<std::string> parts = split_dotted(name);
      hint = "'" + full + "' is a dotted key: in YAML write it nested (" +
             join_list(parts, ": {") + ": ..." + std::string(parts.size() - 1, '}') +
             "), dotted keys only work with --set; ";
    } else if (const ForeignKey* f = foreign_key(name);
               f && std::find(all_keys.begin(), all_keys.end(), f->key) != all_keys.end()) {
      hint = foreign_key_hint(*f) + "; ";  // learning_rate -> train.lr, lora_alpha -> finetune.lora.alpha
    } else {
      std::string near = nearest(name, declared);
      near = near.empty() ? nearest(name, all_keys) : join(path, near);
      if (!near.empty()) hint = "did you mean '" + near + "'? ";
    }
    throw UserError(w.origin() + ": unknown key '" + full + "'", hint + valid);
  }
}

std::string section_context(const Document& doc, const std::string& path, const std::string& message) {
  const std::string in = path.empty() ? "" : ": in '" + path + "'";
  const std::size_t at = path.empty() ? std::string::npos : message.find(path + ".");
  if (at != std::string::npos) {
    std::size_t end = at + path.size() + 1;
    while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '_' ||
                                    message[end] == '.'))
      ++end;
    std::string key = message.substr(at, end - at);
    while (!key.empty() && key.back() == '.') key.pop_back();
    if (key.size() > path.size() + 1) return doc.origin_of(key);  // its line, or the --set that gave it
  }
  return doc.origin_of(path) + in;
}

void decode_bool(const YAML::Node& n, const Where& w, bool& out) {
  const std::string hint = "write true or false";
  if (!n.IsScalar()) fail_type(w, type_name<bool>(), n, hint);
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
  } else if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
  } else {
    fail_type(w, type_name<bool>(), n,
              is_bool_word(s) ? hint + " (YAML 1.1 spellings such as yes/no/on/off are ambiguous)"
                              : hint);
  }
}

std::int64_t decode_integer(const YAML::Node& n, const Where& w, std::int64_t lo, std::int64_t hi) {
  if (!n.IsScalar()) fail_type(w, "an integer", n);
  const std::string& s = n.Scalar();
  auto out_of_range = [&]() {
    throw UserError(w.origin() + ": '" + w.key + "' must be an integer between " +
                        std::to_string(lo) + " and " + std::to_string(hi) + ", got '" + s + "'",
                    "");
  };
  std::int64_t v = 0;
  const Parse p = parse_int(s, v);
  if (p == Parse::kRange) out_of_range();
  if (p == Parse::kInvalid) {
    // Integral floats such as 1e3 or 2.0 are accepted: "steps: 1e5" is common.
    double d = 0;
    const Parse q = parse_floating(s, d);
    if (q == Parse::kRange) out_of_range();
    if (q != Parse::kOk || !std::isfinite(d)) fail_type(w, "an integer", n);
    if (d != std::trunc(d)) fail_type(w, "an integer", n, "use a whole number");
    if (d < -9.223372036854775808e18 || d >= 9.223372036854775808e18) out_of_range();
    v = static_cast<std::int64_t>(d);
  }
  if (v < lo || v > hi) out_of_range();
  return v;
}

void decode_double(const YAML::Node& n, const Where& w, double& out) {
  const std::string hint = "e.g. 3.0e-4, 0.1 or 100";
  if (!n.IsScalar()) fail_type(w, "a number", n, hint);
  const Parse p = parse_floating(n.Scalar(), out);
  if (p == Parse::kRange) {
    throw UserError(w.origin() + ": '" + w.key + "' is out of range for a 64-bit float, got '" +
                        n.Scalar() + "'",
                    "write .inf or -.inf for infinity");
  }
  if (p != Parse::kOk) fail_type(w, "a number", n, hint);
}

void decode_float(const YAML::Node& n, const Where& w, float& out) {
  const std::string hint = "e.g. 3.0e-4, 0.1 or 100";
  if (!n.IsScalar()) fail_type(w, "a number", n, hint);
  const Parse p = parse_floating(n.Scalar(), out);  // parsed as float directly: no double rounding
  if (p == Parse::kRange) {
    throw UserError(w.origin() + ": '" + w.key + "' is out of range for a 32-bit float, got '" +
                        n.Scalar() + "'",
                    "a 32-bit float holds magnitudes from about 1.2e-38 to 3.4e+38");
  }
  if (p != Parse::kOk) fail_type(w, "a number", n, hint);
}

void decode_string(const YAML::Node& n, const Where& w, std::string& out) {
  if (!n.IsScalar()) {
    fail_type(w, "a string", n,
              n.IsSequence() || n.IsMap() ? "quote the value if the brackets/colon are part of the text"
                                          : "");
  }
  out = n.Scalar();
}

std::string format_double(double v) { return format_floating(v); }
std::string format_float(float v) { return format_floating(v); }

YAML::Node string_scalar(const std::string& s) {
  YAML::Node n(s);
  n.SetTag("!");
  return n;
}

std::string format_rows(const std::vector<std::pair<std::string, std::string>>& rows) {
  // Align the comments on the widest row, ignoring outliers (long lists) that would push
  // every comment off screen; those get their comment right after them.
  constexpr std::size_t kMaxWidth = 40;
  std::size_t width = 0;
  for (const auto& [left, help] : rows) {
    if (left.size() <= kMaxWidth) width = std::max(width, left.size());
  }
  std::string out;
  for (const auto& [left, help] : rows) {
    out += "  " + left;
    if (!help.empty()) {
      out += std::string(left.size() < width ? width - left.size() : 0, ' ') + "   # " + help;
    }
    out += "\n";
  }
  return out;
}

}  // namespace detail

// --- free functions ------------------------------------------------------------------------

std::string emit(const YAML::Node& node) { return emit_with(node, false) + "\n"; }

std::string emit_inline(const YAML::Node& node) { return emit_with(node, true); }

std::string nearest(const std::string& key, const std::vector<std::string>& candidates) {
  const std::string typed = lower(key);
  const std::string typed_last = last_part(typed);
  // Ranked by closeness, then by distance of the whole key (so that "train.stpes" prefers
  // "train.steps" over "model.steps"), then by candidate order.
  std::pair<std::size_t, std::size_t> best{kFar, kFar};
  std::string out;
  for (const auto& c : candidates) {
    const std::string cand = lower(c);
    std::size_t score = closeness(typed, cand);
    const std::string cand_last = last_part(cand);
    if (typed_last != typed || cand_last != cand) {
      score = std::min(score, closeness(typed_last, cand_last));
    }
    if (score == kFar) continue;
    const std::pair<std::size_t, std::size_t> rank{score, osa_distance(typed, cand)};
    if (rank < best) {
      best = rank;
      out = c;
    }
  }
  return out;
}

std::string list_names(const std::vector<std::string>& names, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

std::string format_number(double v) { return detail::format_double(v); }

nlohmann::json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      // A key that is not a plain name ({[a, b]: 1}, an anchored null: raw YAML::Node fields are
      // not key-checked) is written as its YAML text, not a YAML::BadConversion (fuzz_config_yaml).
      for (const auto& kv : n) j[kv.first.IsScalar() ? kv.first.Scalar() : emit_inline(kv.first)] = to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : n) j.push_back(to_json(e));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& v = n.Scalar();
      if (n.Tag() == "!") return v;  // quoted in the YAML: a string
      if (v == "true" || v == "false") return v == "true";
      try {
        size_t used = 0;
        long long i = std::stoll(v, &used);
        if (used == v.size()) return i;
        double d = std::stod(v, &used);
        if (used == v.size()) return d;
      } catch (const std::exception&) {
      }
      return v;
    }
    default: return nullptr;
  }
}

}  // namespace ptft::config
