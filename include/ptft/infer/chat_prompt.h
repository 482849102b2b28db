// ptft/infer/chat_prompt.h — what `chat`, `generate --chat` and `serve` share to answer a
// conversation: the template (given, else the checkpoint's, else an error that says how to get
// one) and sampling that stops where the template ends an assistant turn.
//
//   ChatTemplate t = chat_template_for(pretrained, template_option_value, "--template");
//   std::string prompt = t.render_prompt({{"user", "What is a tort?"}});   // ends with the assistant's prefix
//   GenerateResult r = generator.generate(prompt, with_turn_end(sampling, t));
#pragma once

#include <string>

#include "ptft/data/chat_template.h"
#include "ptft/infer/pretrained.h"
#include "ptft/infer/sampling.h"

namespace ptft {

// `spec` (a built-in name or a JSON file, given with option `option`) when not empty, else the
// checkpoint's template (config.json ptft.chat_template, or the Jinja template its tokenizer
// came with). UserError naming the checkpoint when it has none and none is given.
ChatTemplate chat_template_for(const Pretrained& p, const std::string& spec, const std::string& option);

// `opt` that also stops at the template's end of an assistant turn (when it has one).
SamplingOptions with_turn_end(SamplingOptions opt, const ChatTemplate& t);

}  // namespace ptft
