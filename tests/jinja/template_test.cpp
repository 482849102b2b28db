// JinjaTemplate (ptft/jinja/template.h) against Python's jinja2 as transformers configures it
// (tests/jinja/render_reference.py): every case of tests/jinja/data/edge_cases.json — each
// construct of the subset, whitespace control, trim_blocks / lstrip_blocks, Undefined, Python's
// printing of numbers and containers, loops, macros, namespaces, slices, string methods, tojson —
// renders to the same bytes, or fails where jinja2 fails with jinja2's message. One Python
// process renders all cases. The byte spans of {% generation %} blocks equal those transformers'
// AssistantTracker records.
#include "ptft/jinja/template.h"

#include <gtest/gtest.h>

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

// A random template: text with spaces, tabs and newlines around nested if / for / set / comment
// / output tags, each tag with random whitespace control ('-', '+', none) on each side.
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

  void block(std::string& out, int depth) {
    for (int i = pick(5); i >= 0; --i) {
      out += text();
      switch (depth < 3 ? pick(7) : pick(3)) {
        case 0: out += open("{{") + one_of(kExprs) + close("}}"); break;
        case 1: out += open("{#") + "note" + close("#}"); break;
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
  RandomTemplate gen(20261206);
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

}  // namespace
}  // namespace ptft
