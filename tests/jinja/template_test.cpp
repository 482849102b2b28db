// JinjaTemplate (ptft/jinja/template.h) against Python's jinja2 as transformers configures it
// (tests/jinja/render_reference.py): every case of tests/jinja/data/edge_cases.json — each
// construct of the subset, whitespace control, trim_blocks / lstrip_blocks, Undefined, Python's
// printing of numbers and containers, loops, macros, namespaces, slices, string methods, tojson —
// renders to the same bytes, or fails where jinja2 fails with jinja2's message. One Python
// process renders all cases. The byte spans of {% generation %} blocks equal those transformers'
// AssistantTracker records.
#include "ptft/jinja/template.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "../common/temp_dir.h"

#include "jinja_reference.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

const std::string kEdgeCases = PTFT_SOURCE_DIR "/tests/jinja/data/edge_cases.json";

// The fixed clock render_reference.py gives strftime_now ("now" of the cases file).
std::tm parse_now(const std::string& iso) {
  std::tm t{};
  PTFT_CHECK(strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &t) != nullptr, "bad 'now' " + iso);
  t.tm_isdst = -1;
  std::tm copy = t;
  std::mktime(&copy);  // fills tm_wday / tm_yday
  t.tm_wday = copy.tm_wday;
  t.tm_yday = copy.tm_yday;
  return t;
}

TEST(JinjaTemplate, EdgeCasesMatchPythonJinja2) {
  PTFT_REQUIRE_JINJA2();
  std::ifstream in(kEdgeCases);
  ASSERT_TRUE(in) << kEdgeCases;
  const auto spec = nlohmann::ordered_json::parse(in);
  const auto results = jinja_test::run_reference(kEdgeCases);
  const auto& cases = spec["cases"];
  ASSERT_EQ(results.size(), cases.size());
  ASSERT_GE(cases.size(), 100u);
  JinjaRenderOptions options;
  options.now = parse_now(spec["now"].get<std::string>());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    nlohmann::ordered_json context = spec["default_context"];
    if (c.contains("context"))
      for (auto it = c["context"].begin(); it != c["context"].end(); ++it) context[it.key()] = it.value();
    const std::string name = c["name"].get<std::string>();
    std::optional<std::vector<std::pair<std::size_t, std::size_t>>> spans;
    jinja_test::expect_same(
        results[i],
        [&] {
          auto r = JinjaTemplate::parse(c["template"].get<std::string>(), "edge case '" + name + "'")
                       .render_with_generation_spans(context, options);
          spans = r.generation_spans;
          return r.text;
        },
        "edge case '" + name + "': " + c["template"].get<std::string>());
    if (spans && results[i].contains("generation_spans")) {
      EXPECT_EQ(*spans, (results[i]["generation_spans"].get<std::vector<std::pair<std::size_t, std::size_t>>>()))
          << "{% generation %} spans of edge case '" << name << "'";
    }
  }
}

std::string py_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The random tests' seed: `fixed`, or $PTFT_JINJA_SEED to explore others.
uint32_t random_seed(uint32_t fixed) {
  const char* env = std::getenv("PTFT_JINJA_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : fixed;
}

// A random template: text with spaces, tabs and newlines around nested if / for / set / comment
// / raw / output tags, each tag with random whitespace control ('-', '+', none) on each side.
class RandomTemplate {
 public:
  explicit RandomTemplate(uint32_t seed) : rng_(seed) {}

  std::string make() {
    std::string out;
    block(out, 0);
    return out;
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <std::size_t N>
  const char* one_of(const char* const (&xs)[N]) { return xs[pick(static_cast<int>(N))]; }

  std::string text() {
    static const char* const kParts[] = {"a", "b c", " ", "  ", "\t", "\n", "\n  ", "\n\n", "  \n", "\r\n", "}", "x%", "\u3000"};
    std::string s;
    for (int i = pick(4); i >= 0; --i) s += one_of(kParts);
    return s;
  }
  std::string open(const char* kind) {  // "{%" / "{{" / "{#" plus a sign
    static const char* const kSigns[] = {"", "", "-", "+"};
    std::string s = kind;
    const char* sign = one_of(kSigns);
    if (std::string(kind) == "{{" && std::string(sign) == "+") sign = "";
    return s + sign + (pick(3) ? " " : "");
  }
  std::string close(const char* kind) {
    static const char* const kSigns[] = {"", "", "-", "+"};
    std::string sign = one_of(kSigns);
    if (std::string(kind) == "}}" && sign == "+") sign = "";
    return std::string(pick(3) ? " " : "") + sign + kind;
  }
  std::string tag(const std::string& body) { return open("{%") + body + close("%}"); }
  // {% raw %} (its end takes no '+': "raw +%}" is no raw tag in jinja2)
  std::string raw_open() { return open("{%") + "raw" + (pick(2) ? " " : "") + (pick(3) ? "%}" : "-%}"); }

  void block(std::string& out, int depth) {
    for (int i = pick(5); i >= 0; --i) {
      out += text();
      switch (depth < 3 ? pick(8) : pick(3)) {
        case 0: out += open("{{") + one_of(kExprs) + close("}}"); break;
        case 1:
          if (pick(3)) out += open("{#") + "note" + close("#}");
          else out += raw_open() + text() + "{{ v }}" + text() + tag("endraw");
          break;
        case 2: out += tag("set v = " + std::string(one_of(kExprs))); break;
        case 3: case 4:
          out += tag(std::string("if ") + one_of(kConds));
          block(out, depth + 1);
          if (pick(2)) {
            out += tag("else");
            block(out, depth + 1);
          }
          out += tag("endif");
          break;
        case 7: out += raw_open() + text() + "{% if %}" + text() + tag("endraw"); break;
        default:
          out += tag(std::string("for i in ") + one_of(kSeqs));
          block(out, depth + 1);
          out += tag("endfor");
      }
    }
    out += text();
  }

  static constexpr const char* kExprs[] = {"1", "'s'", "v", "i", "loop.index", "l[1:]", "d.a", "none", "1.5 * 2", "'x' ~ v"};
  static constexpr const char* kConds[] = {"true", "false", "i is defined", "v", "l|length > 2"};
  static constexpr const char* kSeqs[] = {"l", "range(2)", "[]", "'ab'"};
  std::mt19937 rng_;
};

TEST(JinjaTemplate, RandomWhitespaceTemplatesMatchPythonJinja2) {
  PTFT_REQUIRE_JINJA2();
  constexpr int kCases = 300;
  const nlohmann::ordered_json context = {{"l", {3, 1, 2}}, {"d", {{"a", 1}}}};
  nlohmann::ordered_json spec = {{"cases", nlohmann::ordered_json::array()}};
  RandomTemplate gen(random_seed(20261206));
  for (int i = 0; i < kCases; ++i) spec["cases"].push_back({{"template", gen.make()}, {"context", context}});
  test::TempDir tmp("jinja_random");
  std::ofstream(tmp.path + "/cases.json") << spec.dump();
  const auto results = jinja_test::run_reference(tmp.path + "/cases.json");
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kCases));
  int rendered = 0;
  for (const auto& r : results) rendered += r.contains("output");
  EXPECT_GE(rendered, kCases * 3 / 4) << "most random templates should be valid";
  for (int i = 0; i < kCases; ++i) {
    const std::string source = spec["cases"][i]["template"].get<std::string>();
    jinja_test::expect_same(results[i], [&] { return JinjaTemplate::parse(source, "random").render(context); },
                            "random template " + std::to_string(i) + ": " + nlohmann::json(source).dump());
  }
}

// A random expression over values of every type: literals, context values, operators,
// comparisons, tests, filters, subscripts and slices, nested a few levels.
class RandomExpression {
 public:
  explicit RandomExpression(uint32_t seed) : rng_(seed) {}

  std::string make(int depth = 0) {
    static const char* const kAtoms[] = {"0", "1", "-2", "7", "2.5", "-0.5", "1e3", "'a'", "'Ab c'", "''", "'é🙂'",
                                         "none", "true", "false", "[]", "[1, 2]", "['b', 'a']", "(1,)", "{}",
                                         "{'k': 1}", "n", "i", "f", "s", "l", "d", "nothing", "d.k", "l[0]"};
    static const char* const kBinary[] = {"+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=",
                                          "in", "not in", "and", "or"};
    static const char* const kFilters[] = {"length", "string", "lower", "upper", "default('z')", "tojson", "list",
                                           "first", "last", "join(',')", "trim", "int", "float", "abs", "reverse",
                                           "sort", "unique", "title", "capitalize", "round", "count",
                                           "select('odd')", "map('string')"};
    static const char* const kNames[] = {"n", "i", "f", "s", "l", "d", "nothing"};
    static const char* const kTests[] = {"defined", "none", "string", "number", "integer", "mapping", "iterable",
                                         "sequence", "even", "odd", "true", "false", "boolean"};
    if (depth >= 3) return one_of(kAtoms);
    switch (pick(9)) {
      case 0: case 1: return one_of(kAtoms);
      case 2: return "(" + make(depth + 1) + " " + one_of(kBinary) + " " + make(depth + 1) + ")";
      case 3: return "(" + make(depth + 1) + "|" + one_of(kFilters) + ")";
      case 4: return "(" + make(depth + 1) + " is " + (pick(3) ? "" : "not ") + one_of(kTests) + ")";
      case 5: return "(" + make(depth + 1) + " if " + make(depth + 1) + " else " + make(depth + 1) + ")";
      case 6: return "(not " + make(depth + 1) + ")";
      // Subscripts of variables only: jinja2 folds constant expressions at compile time, where a
      // failed slice of a literal becomes Undefined instead of a TypeError.
      case 7: return std::string(one_of(kNames)) + "[" + std::to_string(pick(5) - 2) + "]";
      default: return std::string(one_of(kNames)) + "[" + std::to_string(pick(5) - 2) + ":" + (pick(2) ? ":-1" : "") + "]";
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <std::size_t N>
  const char* one_of(const char* const (&xs)[N]) { return xs[pick(static_cast<int>(N))]; }
  std::mt19937 rng_;
};

TEST(JinjaTemplate, RandomExpressionsMatchPythonJinja2) {
  PTFT_REQUIRE_JINJA2();
  constexpr int kCases = 600;
  const nlohmann::ordered_json context = {{"n", nullptr}, {"i", 3}, {"f", -1.5}, {"s", "Héllo"},
                                          {"l", {3, 1, 2}}, {"d", {{"k", "v"}, {"a", 1}}}};
  nlohmann::ordered_json spec = {{"cases", nlohmann::ordered_json::array()}};
  RandomExpression gen(random_seed(7));
  for (int i = 0; i < kCases; ++i) spec["cases"].push_back({{"template", "{{ " + gen.make() + " }}"}, {"context", context}});
  test::TempDir tmp("jinja_expr");
  std::ofstream(tmp.path + "/cases.json") << spec.dump();
  const auto results = jinja_test::run_reference(tmp.path + "/cases.json");
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kCases));
  int rendered = 0;
  for (const auto& r : results) rendered += r.contains("output");
  EXPECT_GE(rendered, kCases / 2) << "most random expressions should evaluate";
  for (int i = 0; i < kCases; ++i) {
    const std::string source = spec["cases"][i]["template"].get<std::string>();
    // jinja2 prints a generator's memory address; ptft refuses to print one.
    if (results[i].contains("output") && py_lower(results[i]["output"].get<std::string>()).find(" at 0x") != std::string::npos) {
      try {
        JinjaTemplate::parse(source, "expr").render(context);
        ADD_FAILURE() << "printed a generator: " << source;
      } catch (const UserError& e) {
        EXPECT_NE(e.message().find("printing a"), std::string::npos) << e.message();
      }
      continue;
    }
    jinja_test::expect_same(results[i], [&] { return JinjaTemplate::parse(source, "expr").render(context); },
                            "random expression " + std::to_string(i) + ": " + source);
  }
}

}  // namespace
}  // namespace ptft
