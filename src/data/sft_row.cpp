#include "ptft/data/sft_row.h"

#include <algorithm>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/data/text_inputs.h"

namespace ptft {

const char* const kSftRowHint =
    "each line holds {\"prompt\": \"...\", \"response\": \"...\"} (optionally \"system\") or "
    "{\"messages\": [{\"role\": \"user\", \"content\": \"...\"}, {\"role\": \"assistant\", \"content\": \"...\"}]}";

namespace {

// The string field `key` of row `j`, or a UserError at `where`.
std::string need_string(const nlohmann::json& j, const std::string& key, const std::string& where) {
  return text::json_string_field(j, key, where, kSftRowHint);
}

}  // namespace

std::vector<ChatMessage> parse_sft_row(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object())
    throw UserError(where + ": expected a JSON object, got " + std::string(j.type_name()), kSftRowHint);
  std::vector<ChatMessage> conv;
  if (!j.contains("messages")) {
    if (!j.contains("prompt") && !j.contains("response"))
      throw UserError(where + ": the row has neither 'prompt'/'response' nor 'messages'", kSftRowHint);
    if (j.contains("system")) conv.push_back({"system", need_string(j, "system", where)});
    conv.push_back({"user", need_string(j, "prompt", where)});
    conv.push_back({"assistant", need_string(j, "response", where)});
    return conv;
  }
  if (j.contains("prompt") || j.contains("response"))
    throw UserError(where + ": the row has both 'messages' and 'prompt'/'response'", "use one form per row");
  const auto& messages = j["messages"];
  if (!messages.is_array())
    throw UserError(where + ": 'messages' is " + std::string(messages.type_name()) + ", expected a list", kSftRowHint);
  static const std::vector<std::string> roles = {"system", "user", "assistant"};
  bool answered = false;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string at = where + ": message " + std::to_string(i + 1);
    if (!messages[i].is_object())
      throw UserError(at + " is " + std::string(messages[i].type_name()) + ", expected an object", kSftRowHint);
    ChatMessage m{need_string(messages[i], "role", at), need_string(messages[i], "content", at)};
    if (std::find(roles.begin(), roles.end(), m.role) == roles.end()) {
      const std::string near = config::nearest(m.role, roles);
      throw UserError(at + ": unknown role '" + m.role + "'",
                      (near.empty() ? "" : "did you mean '" + near + "'? ") + "roles: system, user, assistant");
    }
    answered = answered || m.role == "assistant";
    conv.push_back(std::move(m));
  }
  if (!answered)
    throw UserError(where + ": no assistant message (nothing to learn)",
                    "every row needs at least one {\"role\": \"assistant\", ...} message");
  return conv;
}

}  // namespace ptft
