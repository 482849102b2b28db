#include "ptft/data/chat_template_export.h"

#include "ptft/data/chat_template.h"

namespace ptft {
namespace {

constexpr const char* kContent = "{content}";

// `text` as a Jinja string literal expression: {{ '...' }} with ' and \ escaped.
std::string literal(const std::string& text) {
  if (text.empty()) return {};
  std::string out = "{{ '";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "' }}";
}

// The role's text with {content} as the message's content, then `after` (assistant_end).
std::string message(const std::string& piece, const std::string& after) {
  const auto at = piece.find(kContent);
  return literal(piece.substr(0, at)) + "{{ message['content'] }}" +
         literal(piece.substr(at + std::char_traits<char>::length(kContent)) + after);
}

}  // namespace

std::string chat_template_as_jinja(const nlohmann::json& chat_template, const std::string& source) {
  const nlohmann::json t = ChatTemplate::from_json(chat_template, source).to_json();
  if (t.contains("jinja")) return t["jinja"].get<std::string>();
  const std::string system = t["system"], user = t["user"], assistant = t["assistant"], end = t["assistant_end"];
  return "{%- for message in messages -%}"
         "{%- if message['role'] == 'system' -%}" + message(system, "") +
         "{%- elif message['role'] == 'user' -%}" + message(user, "") +
         "{%- elif message['role'] == 'assistant' -%}" + message(assistant, end) +
         "{%- else -%}{{ raise_exception('roles: system, user, assistant') }}"
         "{%- endif -%}"
         "{%- endfor -%}"
         "{%- if add_generation_prompt -%}" + literal(assistant.substr(0, assistant.find(kContent))) +
         "{%- endif -%}";
}

}  // namespace ptft
