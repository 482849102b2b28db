#include "ptft/core/json_depth.h"

#include "ptft/core/error.h"
#include "ptft/core/fs.h"

namespace ptft {

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

void require_json_depth(std::string_view text, const std::string& what) {
  if (json_depth(text) > kMaxJsonDepth)
    throw UserError(what + " nests JSON arrays/objects more than " + std::to_string(kMaxJsonDepth) + " levels deep",
                    "no real file does; this one is damaged or made to crash a parser");
}

std::string read_json_text(const std::string& path, const std::string& what) {
  std::string text = fs::read_file(path, what);
  require_json_depth(text, what + " '" + path + "'");
  return text;
}

}  // namespace ptft
