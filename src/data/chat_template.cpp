#include "ptft/data/chat_template.h"
#include "ptft/core/json_depth.h"

#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"

namespace ptft {
namespace {

const char* const kContent = "{content}";
const std::vector<std::string> kRoles = {"system", "user", "assistant"};
const std::vector<std::string> kKeys = {"name", "system", "user", "assistant", "assistant_end"};

// Built-in templates, as the JSON a user would write (validated by from_json like any other).
const std::vector<std::pair<std::string, nlohmann::json>>& builtins() {
  static const std::vector<std::pair<std::string, nlohmann::json>> list = {
      {"ptft-chat",
       {{"name", "ptft-chat"},
        {"system", "<|system|>\n{content}\n"},
        {"user", "<|user|>\n{content}\n"},
        {"assistant", "<|assistant|>\n{content}"},
        {"assistant_end", "<|endoftext|>\n"}}},
  };
  return list;
}

std::string builtin_names() {
  std::string s;
  for (const auto& b : builtins()) s += (s.empty() ? "" : ", ") + b.first;
  return s;
}

// `piece` with its one "{content}" replaced by `content`.
std::string fill(const std::string& piece, const std::string& content) {
  const auto at = piece.find(kContent);
  return piece.substr(0, at) + content + piece.substr(at + std::char_traits<char>::length(kContent));
}

// Appends `text` to `out`, joining it to the last piece when both are trained or both are not:
// a prompt's messages are encoded together, as render_prompt() hands them to generation.
void append(std::vector<ChatPiece>& out, std::string text, bool trained) {
  if (text.empty()) return;
  if (!out.empty() && out.back().trained == trained) out.back().text += text;
  else out.push_back({std::move(text), trained});
}

}  // namespace

ChatTemplate ChatTemplate::builtin(const std::string& name) {
  for (const auto& b : builtins())
    if (b.first == name) return from_json(b.second, "built-in chat template '" + name + "'");
  std::vector<std::string> names;
  for (const auto& b : builtins()) names.push_back(b.first);
  const std::string near = config::nearest(name, names);
  throw UserError("unknown built-in chat template '" + name + "'",
                  (near.empty() ? "" : "did you mean '" + near + "'? ") + "built-in templates: " + builtin_names());
}

ChatTemplate ChatTemplate::from_json(const nlohmann::json& j, const std::string& source) {
  if (j.is_object() && j.contains("jinja")) {  // a Hugging Face template, as to_json() writes it
    auto text = [&](const char* key) -> std::string {
      if (!j.contains(key) || j[key].is_null()) return {};
      if (!j[key].is_string())
        throw UserError(source + ": chat template key '" + key + "' must be a string, got " + std::string(j[key].type_name()));
      return j[key].get<std::string>();
    };
    ChatTemplate t = from_jinja(text("jinja"), source, text("bos_token"), text("eos_token"), text("assistant_end"));
    if (j.contains("name") && j["name"].is_string()) t.name_ = j["name"].get<std::string>();
    return t;
  }
  const std::string form =
      "{\"system\": \"...{content}...\", \"user\": \"...{content}...\", \"assistant\": \"...{content}...\", "
      "\"assistant_end\": \"...\"} (and optionally \"name\")";
  if (!j.is_object())
    throw UserError(source + ": a chat template must be a JSON object, got " + std::string(j.type_name()),
                    "write " + form);
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const auto& k : kKeys) known = known || k == key;
    if (!known) {
      const std::string near = config::nearest(key, kKeys);
      throw UserError(source + ": unknown chat template key '" + key + "'",
                      (near.empty() ? "" : "did you mean '" + near + "'? ") +
                          "keys: name, system, user, assistant, assistant_end");
    }
    if (!value.is_string())
      throw UserError(source + ": chat template key '" + key + "' must be a string, got " +
                          std::string(value.type_name()),
                      "write " + form);
  }
  ChatTemplate t;
  t.name_ = j.contains("name") ? j["name"].get<std::string>() : std::string("custom");
  std::string* fields[] = {&t.system_, &t.user_, &t.assistant_, &t.assistant_end_};
  for (std::size_t i = 1; i < kKeys.size(); ++i) {
    const std::string& key = kKeys[i];
    if (!j.contains(key))
      throw UserError(source + ": chat template has no '" + key + "'", "write " + form);
    *fields[i - 1] = j[key].get<std::string>();
  }
  for (std::size_t i = 0; i < kRoles.size(); ++i) {
    const std::string& piece = *fields[i];
    const auto first = piece.find(kContent);
    if (first == std::string::npos || piece.find(kContent, first + 1) != std::string::npos)
      throw UserError(source + ": chat template '" + kRoles[i] + "' must contain \"{content}\" exactly once, got " +
                          nlohmann::json(piece).dump(),
                      "\"{content}\" marks where the message goes, e.g. \"<|" + kRoles[i] + "|>\\n{content}\\n\"");
  }
  if (t.assistant_end_.find(kContent) != std::string::npos)
    throw UserError(source + ": chat template 'assistant_end' must not contain \"{content}\", got " +
                        nlohmann::json(t.assistant_end_).dump(),
                    "assistant_end is the text that ends an assistant turn, e.g. \"<|endoftext|>\\n\"");
  if (t.assistant_end_.empty())
    throw UserError(source + ": chat template 'assistant_end' is empty",
                    "the model learns to end its turn with it and generation stops there: use e.g. "
                    "\"<|endoftext|>\\n\"");
  return t;
}

ChatTemplate ChatTemplate::from_spec(const std::string& spec, const std::string& where) {
  for (const auto& b : builtins())
    if (b.first == spec) return builtin(spec);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(spec, ec))
    throw UserError(where + ": chat template '" + spec + "' is neither a built-in template nor a file",
                    "built-in templates: " + builtin_names() + "; or a JSON file {\"system\", \"user\", "
                    "\"assistant\", \"assistant_end\"} (see docs/formats.md)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_json_text(spec, "chat template"));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(where + ": chat template file '" + spec + "' is not valid JSON: " + e.what());
  }
  ChatTemplate t = from_json(j, where + ": '" + spec + "'");
  if (!j.contains("name")) t.name_ = spec;
  return t;
}

nlohmann::json ChatTemplate::to_json() const {
  if (jinja_)
    return {{"name", name_},
            {"jinja", jinja_source_},
            {"bos_token", bos_token_},
            {"eos_token", eos_token_},
            {"assistant_end", assistant_end_}};
  return {{"name", name_}, {"system", system_}, {"user", user_}, {"assistant", assistant_},
          {"assistant_end", assistant_end_}};
}

std::vector<ChatPiece> ChatTemplate::render_pieces(const std::vector<ChatMessage>& messages) const {
  if (jinja_) return jinja_pieces(messages);
  std::vector<ChatPiece> out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "system") append(out, fill(system_, m.content), false);
    else if (m.role == "user") append(out, fill(user_, m.content), false);
    else if (m.role == "assistant") {
      // "<|assistant|>\n" is prompt; the content, any text after it and assistant_end are learnt.
      const auto at = assistant_.find(kContent);
      append(out, assistant_.substr(0, at), false);
      append(out, m.content + assistant_.substr(at + std::char_traits<char>::length(kContent)) + assistant_end_,
             true);
    } else {
      const std::string near = config::nearest(m.role, kRoles);
      throw UserError("chat template '" + name_ + "': message " + std::to_string(i + 1) + " has unknown role '" +
                          m.role + "'",
                      (near.empty() ? "" : "did you mean '" + near + "'? ") + "roles: system, user, assistant");
    }
  }
  return out;
}

std::string ChatTemplate::render_prompt(const std::vector<ChatMessage>& messages) const {
  if (jinja_) return render_jinja(messages, true);
  std::string prompt;
  for (const auto& p : render_pieces(messages)) prompt += p.text;
  return prompt + assistant_.substr(0, assistant_.find(kContent));
}

}  // namespace ptft
