// JinjaTemplate (ptft/jinja/template.h) against Python's jinja2 as transformers configures it
// (tests/jinja/render_reference.py): every case of tests/jinja/data/edge_cases.json — each
// construct of the subset, whitespace control, trim_blocks / lstrip_blocks, Undefined, Python's
// printing of numbers and containers, loops, macros, namespaces, slices, string methods, tojson —
// renders to the same bytes, or fails where jinja2 fails with jinja2's message. One Python
// process renders all cases.
#include "ptft/jinja/template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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
    jinja_test::expect_same(
        results[i],
        [&] { return JinjaTemplate::parse(c["template"].get<std::string>(), "edge case '" + name + "'").render(context, options); },
        "edge case '" + name + "': " + c["template"].get<std::string>());
  }
}

}  // namespace
}  // namespace ptft
