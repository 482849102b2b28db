// tests/jinja/jinja_reference.h — running tests/jinja/render_reference.py (Python's jinja2, set
// up as transformers' apply_chat_template sets it up) over a file of cases, and comparing one
// ptft rendering with its result.
//
//   nlohmann::ordered_json results = jinja_test::run_reference(cases_json_path);  // one per case
//   jinja_test::expect_same(result_i, [&] { return tmpl.render(ctx); }, "case name");
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "../common/python.h"
#include "ptft/core/error.h"

namespace ptft::jinja_test {

const std::string kReferenceScript = PTFT_SOURCE_DIR "/tests/jinja/render_reference.py";

// The python3 that imports jinja2 ("" when none does).
inline const std::string& python_with_jinja2() {
  static const std::string py = test::python_with("jinja2");
  return py;
}

// render_reference.py's results for `cases_path` (a JSON list); a failure (and an empty list)
// when it does not run.
inline nlohmann::ordered_json run_reference(const std::string& cases_path) {
  int status = 0;
  const std::string out = test::run_command(python_with_jinja2() + " '" + kReferenceScript + "' '" + cases_path + "'", &status);
  if (status != 0) {
    ADD_FAILURE() << "render_reference.py " << cases_path << " exited with " << status << ": " << out;
    return nlohmann::ordered_json::array();
  }
  return nlohmann::ordered_json::parse(out);
}

// ptft's rendering equals the reference's `expected` ({"output": S} or {"error": T, "message": M}):
// the same bytes, or a UserError carrying jinja2's message (raise_exception's text after
// "chat template raised: "; a syntax error with ptft's own wording).
inline void expect_same(const nlohmann::ordered_json& expected, const std::function<std::string()>& render,
                        const std::string& what) {
  SCOPED_TRACE(what);
  if (expected.contains("output")) {
    try {
      const std::string got = render();
      EXPECT_EQ(got, expected["output"].get<std::string>()) << "rendering differs from Python's jinja2";
    } catch (const UserError& e) {
      ADD_FAILURE() << "ptft failed where jinja2 rendered " << expected["output"].dump() << ": " << e.full();
    }
    return;
  }
  const std::string type = expected["error"].get<std::string>();
  const std::string message = expected["message"].get<std::string>();
  try {
    const std::string got = render();
    ADD_FAILURE() << "jinja2 raised " << type << ": " << message << "; ptft rendered " << nlohmann::json(got).dump();
  } catch (const UserError& e) {
    if (type == "TemplateError") EXPECT_EQ(e.message(), "chat template raised: " + message);
    else if (type == "TemplateSyntaxError") EXPECT_NE(e.message().find("syntax error"), std::string::npos) << e.message();
    else EXPECT_NE(e.message().find(message), std::string::npos) << "jinja2: " << type << ": " << message << "\nptft: " << e.message();
  }
}

}  // namespace ptft::jinja_test

// Skips the current test when no python3 imports jinja2.
#define PTFT_REQUIRE_JINJA2()                                                                      \
  if (::ptft::jinja_test::python_with_jinja2().empty())                                           \
  GTEST_SKIP() << "no python3 with jinja2 for the reference renderer (scripts/setup.sh installs " \
                  "python3-jinja2; PTFT_PYTHON picks an interpreter)"
