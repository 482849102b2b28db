// ptft/data/chat_template_export.h — a chat template in the form other tools read: Jinja, as
// Hugging Face's tokenizer_config.json and GGUF's tokenizer.chat_template hold it.
//
// A Jinja template (one read from a Hugging Face tokenizer) is returned as it is. A ptft template
// ({"system": "<|system|>\n{content}\n", ...}, data/chat_template.h) becomes the Jinja template
// that renders every conversation exactly as ptft does: each message as its role's text with
// {content} filled, an assistant message followed by assistant_end, and with
// add_generation_prompt the assistant's text up to {content}. Literal text goes into Jinja string
// expressions, so no character of it is read as template syntax or trimmed.
//
//   std::string jinja = chat_template_as_jinja(config["ptft"]["chat_template"], "config.json");
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ptft {

// UserError (naming `source`) for an invalid template, as ChatTemplate::from_json.
std::string chat_template_as_jinja(const nlohmann::json& chat_template, const std::string& source);

}  // namespace ptft
