// JinjaTemplate's errors: constructs outside the subset and syntax errors are UserErrors at parse
// time naming the construct, the origin and the line; errors while rendering name the line and
// carry jinja2's exception; the limits (output size, loop iterations, macro depth, nesting) stop a
// hostile template with a UserError, never a crash or a hang.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/jinja/template.h"

namespace ptft {
namespace {

using Json = nlohmann::ordered_json;

// The UserError message of parsing `source` (a failure when it parses).
std::string parse_error(const std::string& source) {
  try {
    JinjaTemplate::parse(source, "t.jinja");
  } catch (const UserError& e) {
    return e.message();
  }
  ADD_FAILURE() << "parsed without error: " << source;
  return {};
}

// The UserError message of rendering `source` with `ctx`.
std::string render_error(const std::string& source, const Json& ctx = Json::object(), const JinjaRenderOptions& options = {}) {
  const JinjaTemplate t = JinjaTemplate::parse(source, "t.jinja");
  try {
    t.render(ctx, options);
  } catch (const UserError& e) {
    return e.message();
  }
  ADD_FAILURE() << "rendered without error: " << source;
  return {};
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "in: " << (text)

TEST(JinjaErrors, UnsupportedConstructsNameTheConstructAndLine) {
  const struct {
    const char* source;
    const char* construct;
  } cases[] = {
      {"a\nb\n{% include 'x.jinja' %}", "'{% include %}'"},
      {"{% import 'm.jinja' as m %}", "'{% import %}'"},
      {"{% from 'm.jinja' import x %}", "'{% from %}'"},
      {"{% extends 'base.jinja' %}", "'{% extends %}'"},
      {"{% block body %}x{% endblock %}", "'{% block %}'"},
      {"{% call m() %}x{% endcall %}", "'{% call %}'"},
      {"{% for x in y recursive %}{% endfor %}", "'{% for ... recursive %}'"},
      {"{{ f(*args) }}", "'*args' / '**kwargs'"},
      {"{% macro m() %}{{ caller() }}{% endmacro %}", "'caller' in a macro"},
  };
  for (const auto& c : cases) {
    const std::string msg = parse_error(c.source);
    EXPECT_HAS(msg, c.construct);
    EXPECT_HAS(msg, "t.jinja, line ");
  }
  EXPECT_HAS(parse_error("a\nb\n{% include 'x.jinja' %}"),
             "t.jinja, line 3: unsupported Jinja construct '{% include %}' (a chat template cannot read other files)");
  EXPECT_HAS(parse_error("x\n{{ s | wordwrap(5) }}"), "t.jinja, line 2: unknown or unsupported filter 'wordwrap'");
  EXPECT_HAS(parse_error("\n\n\n{% if x is prime %}{% endif %}"), "t.jinja, line 4: unknown or unsupported test 'prime'");
  EXPECT_HAS(parse_error("{% frobnicate %}"), "unknown tag 'frobnicate'");
}

TEST(JinjaErrors, SyntaxErrorsNameTheLine) {
  EXPECT_HAS(parse_error("ok\n{% if x %}\nnever closed"), "t.jinja, line 2: template syntax error: unexpected end of template");
  EXPECT_HAS(parse_error("ok\n{% if x %}\nnever closed"), "'endif'");
  EXPECT_HAS(parse_error("{% for m in messages %}\n{% if m %}\n{% endfor %}"),
             "t.jinja, line 3: template syntax error: unexpected 'endfor' (the block opened on line 2 needs 'elif' or 'else' or 'endif')");
  EXPECT_HAS(parse_error("a\n{{ x "), "t.jinja, line 2: template syntax error: unclosed '{{'");
  EXPECT_HAS(parse_error("a\n\n{% if x "), "t.jinja, line 3: template syntax error: unclosed '{%'");
  EXPECT_HAS(parse_error("a\n{# no end"), "t.jinja, line 2: template syntax error: missing end of comment tag");
  EXPECT_HAS(parse_error("{{ 'unterminated }}"), "unterminated string literal");
  EXPECT_HAS(parse_error("a\n{% raw %}{{ x }}{% endraw"), "t.jinja, line 2: template syntax error: missing end of raw directive");
  EXPECT_HAS(parse_error("{{ a ? b }}"), "unexpected character '?'");
  EXPECT_HAS(parse_error("{{ (a ] }}"), "unexpected ']', expected ')'");
  EXPECT_HAS(parse_error("{% endfor %}"), "unexpected 'endfor'");
  EXPECT_HAS(parse_error("{% break %}"), "'break' outside a for loop");
  EXPECT_HAS(parse_error("{% for x in l %}{% generation %}{% break %}{% endgeneration %}{% endfor %}"), "'break' outside a for loop");
  EXPECT_HAS(parse_error("{% for x in l %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}"), "'continue' outside a for loop");
  EXPECT_HAS(parse_error("{{ }}"), "expected an expression");
  EXPECT_HAS(parse_error("{% set 1 = 2 %}"), "can only assign to names");
  EXPECT_HAS(parse_error("{{ '\\x4' }}"), "truncated \\xXX escape");
  EXPECT_HAS(parse_error(std::string("{{ 'a") + '\xff' + "' }}"), "not valid UTF-8");
  EXPECT_HAS(parse_error("{% macro m(a=1, b) %}{% endmacro %}"), "non-default argument follows default argument");
}

TEST(JinjaErrors, RenderErrorsNameTheLineAndJinjasException) {
  EXPECT_EQ(render_error("a\n\n{{ messages[0].content.x.y }}", Json{{"messages", Json::array({Json{{"role", "user"}}})}}),
            "t.jinja, line 3: UndefinedError: 'dict object' has no attribute 'content'");
  EXPECT_EQ(render_error("{% for x in [1] %}\n{{ x + 'a' }}\n{% endfor %}"),
            "t.jinja, line 2: TypeError: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(render_error("\n{{ raise_exception('no system role') }}"), "chat template raised: no system role");
  EXPECT_EQ(render_error("{{ [1].append(2) }}"), "t.jinja, line 1: SecurityError: access to attribute 'append' of 'list' object is unsafe.");
  // Python would compute these; ptft says it does not, instead of rendering something else.
  EXPECT_HAS(render_error("{{ '%*d' % (3, 1) }}"), "'*' widths in %-formatting are not in ptft's Jinja subset");
  EXPECT_HAS(render_error("{{ 'x'.encode() }}"), "str.encode() is not in ptft's Jinja subset");
  EXPECT_HAS(render_error("{{ [1, 2].pop() }}"), "list.pop() is not in ptft's Jinja subset");
  EXPECT_HAS(render_error("{{ 2 ** 64 }}"), "does not fit in 64 bits");
  EXPECT_HAS(render_error("{{ {'a': 1}.items }}"), "printing dict.items (a function, not its result");
  // A macro kept (in a namespace) past the loop iteration that defined it.
  EXPECT_HAS(render_error("{% set ns = namespace() %}{% for i in [1] %}{% macro m() %}x{% endmacro %}{% set ns.m = m %}"
                          "{% endfor %}{{ ns.m() }}"),
             "macro 'm' called after the block that defined it ended");
  // The context must be an object.
  const JinjaTemplate t = JinjaTemplate::parse("x", "t.jinja");
  EXPECT_THROW(t.render(Json::array()), UserError);
}

TEST(JinjaErrors, LimitsStopHostileTemplates) {
  JinjaRenderOptions small;
  small.max_output_bytes = 1000;
  EXPECT_HAS(render_error("{% for i in range(2000) %}x{% endfor %}", Json::object(), small), "over the output limit");
  EXPECT_HAS(render_error("{{ 'a' * 2000 }}", Json::object(), small), "over the output limit of 1000 bytes");
  // Exponential growth hits the 16 MiB default long before it costs memory.
  EXPECT_HAS(render_error("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
             "over the output limit of 16777216 bytes");
  EXPECT_HAS(render_error("{{ 'ab' * 1000000000 }}"), "over the output limit");
  // 10^10 iterations: stopped at the default million, quickly.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_HAS(render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
             "more than 1000000 loop iterations");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_HAS(render_error("{{ range(100001)|length }}"), "Range too big");
  // A macro calling itself forever.
  EXPECT_HAS(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "macro calls nested more than 64 deep");
  // Values nested ever deeper (then printed, compared, freed) stop at 500 levels.
  EXPECT_HAS(render_error("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}"),
             "a value nested more than 500 deep");
  EXPECT_HAS(render_error("{% set ns = namespace(x=none) %}{% for i in range(100000) %}{% set ns.x = namespace(y=ns.x) %}{% endfor %}"),
             "a value nested more than 500 deep");
  nlohmann::ordered_json deep = 1;
  for (int i = 0; i < 600; ++i) deep = nlohmann::ordered_json::array({deep});
  EXPECT_HAS(render_error("{{ x }}", Json{{"x", deep}}), "a value nested more than 500 deep");
  // Deep nesting is a parse error, not a stack overflow.
  EXPECT_HAS(parse_error("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"), "nested more than 200 levels");
  EXPECT_HAS(parse_error(std::string(100000, '-').insert(0, "{{ ") + "1 }}"), "nested more than 200 levels");
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "{% if true %}";
  EXPECT_HAS(parse_error(ifs), "nested more than 200 levels");
}

TEST(JinjaTemplateApi, ParseOnceRenderManyWithAnInjectedClock) {
  const JinjaTemplate t = JinjaTemplate::parse(
      "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{{ strftime_now('%Y-%m-%d') }}",
      "tokenizer_config.json chat_template");
  EXPECT_EQ(t.origin(), "tokenizer_config.json chat_template");
  JinjaRenderOptions options;
  std::tm now{};
  now.tm_year = 2024 - 1900;
  now.tm_mon = 1;
  now.tm_mday = 29;
  options.now = now;
  Json ctx = {{"bos_token", "<s>"}, {"messages", Json::array({Json{{"role", "user"}, {"content", "hi"}}})}};
  EXPECT_EQ(t.render(ctx, options), "<s><user>hi2024-02-29");
  ctx["messages"].push_back(Json{{"role", "assistant"}, {"content", "yo"}});
  EXPECT_EQ(t.render(ctx, options), "<s><user>hi<assistant>yo2024-02-29");
  // One parsed template renders from several threads at once.
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(4);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      Json c = ctx;
      c["bos_token"] = "<" + std::to_string(k) + ">";
      for (int rep = 0; rep < 200; ++rep) outputs[k] = t.render(c, options);
    });
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(outputs[k], "<" + std::to_string(k) + "><user>hi<assistant>yo2024-02-29");
  // Without an injected clock strftime_now reads the system's.
  const std::string today = JinjaTemplate::parse("{{ strftime_now('%Y') }}", "t").render(Json::object());
  EXPECT_EQ(today.size(), 4u);
}

}  // namespace
}  // namespace ptft
