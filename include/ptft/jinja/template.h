// ptft/jinja/template.h — renders Hugging Face chat templates (the `chat_template` of
// tokenizer_config.json, or chat_template.jinja) byte for byte as transformers does with Python's
// jinja2: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
// loopcontrols extension, transformers' `tojson`, `raise_exception` and `strftime_now`.
//
// The subset chat templates use (docs/formats.md, "Chat templates (Jinja subset)"): output,
// if/elif/else, for (loop.*, else, filters, unpacking, break/continue), set (also ns.attr and
// block set), macros, namespace(), Python expressions and values, the common filters, tests and
// str/dict/list methods. Anything else — include/import/extends/block, unknown filters or tests —
// is a UserError naming the construct and its line, at parse time where it can be known. A
// template reaches nothing but its context: no files, no network, no environment.
//
//   auto t = JinjaTemplate::parse(config["chat_template"].get<std::string>(),
//                                 "tokenizer_config.json chat_template");
//   // What transformers' apply_chat_template passes: messages, tools, documents,
//   // add_generation_prompt, the special tokens set in tokenizer_config.json, extra kwargs.
//   nlohmann::ordered_json ctx = {{"messages", messages}, {"tools", nullptr}, {"documents", nullptr},
//                                 {"add_generation_prompt", true}, {"bos_token", "<s>"}, {"eos_token", "</s>"}};
//   std::string prompt = t.render(ctx);
//
// Errors while rendering are UserErrors too: "<origin>, line N: UndefinedError: 'dict object'
// has no attribute 'content'" (the exception jinja2 would raise, with its message);
// raise_exception("...") gives "chat template raised: ...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptft {

struct JinjaRenderOptions {
  std::size_t max_output_bytes = 16u << 20;  // the output and every string built on the way (16 MiB)
  int64_t max_loop_iterations = 1000000;     // all for-loop iterations of one render together
  int max_call_depth = 64;                   // nested macro calls (a macro calling itself)
  std::optional<std::tm> now;                // strftime_now's clock, local time; unset: the system clock
};

// Immutable once parsed: one template may render from several threads at once.
class JinjaTemplate {
 public:
  // Parses `source`; `origin` names it in messages (e.g. "tokenizer_config.json chat_template").
  // Throws UserError on a syntax error or a construct outside the subset, with the line.
  static JinjaTemplate parse(const std::string& source, const std::string& origin);

  // Renders with `context` (a JSON object: its keys are the template's variables, in the order
  // given — dicts keep their key order, as Python's json.loads does). Throws UserError on an
  // error the template raises or hits, or when a limit is passed.
  std::string render(const nlohmann::ordered_json& context, const JinjaRenderOptions& options = {}) const;

  // The rendering and where each `{% generation %}...{% endgeneration %}` block's output lies in
  // it (byte offsets [begin, end), in order): the assistant's text, as transformers'
  // return_assistant_tokens_mask finds it. Blocks rendered inside a macro or a block set are not
  // located (transformers' offsets there count only the output written before that macro call
  // or block set began).
  struct Rendered {
    std::string text;
    std::vector<std::pair<std::size_t, std::size_t>> generation_spans;
  };
  Rendered render_with_generation_spans(const nlohmann::ordered_json& context,
                                        const JinjaRenderOptions& options = {}) const;

  const std::string& origin() const;

 private:
  struct Impl;
  explicit JinjaTemplate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ptft
