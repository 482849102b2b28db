// fuzz_jinja — libFuzzer target for ptft::JinjaTemplate (chat templates come from downloaded
// tokenizer_config.json files: untrusted input).
//
// Any input must either parse and render or be rejected with a ptft::Error; every other
// exception, every sanitizer report, a hang (-timeout) and runaway memory (-rss_limit_mb) are
// crashes. The input is the template; it renders with a fixed chat context, under small limits.
//
//   build/fuzz/fuzz_jinja -max_total_time=120 /tmp/jinja-corpus tests/jinja/fuzz_corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "ptft/core/error.h"
#include "ptft/jinja/template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Hi \u00e9\ud83d\ude42 {{ x }}"},
                 {"role": "assistant", "content": "<think>\nr\n</think>\n\nHello", "reasoning_content": null,
                  "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, true]}}}]},
                 {"role": "tool", "content": "42"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "documents": null, "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
    "enable_thinking": false})");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  ptft::JinjaRenderOptions options;
  options.max_output_bytes = 1 << 20;
  options.max_loop_iterations = 20000;
  std::tm now{};
  now.tm_year = 126;
  now.tm_mday = 1;
  options.now = now;
  try {
    const ptft::JinjaTemplate t = ptft::JinjaTemplate::parse(source, "fuzz");
    t.render_with_generation_spans(context(), options);
  } catch (const ptft::Error&) {
    // rejected or failed as a template may: fine
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_jinja: non-ptft exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
