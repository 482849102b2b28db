// ptft/core/json_depth.h — a bound on JSON nesting, checked on the text before nlohmann::json
// parses it. nlohmann copies, prints and compares values recursively: input nested 100,000 levels
// deep (200 KB of brackets) overflows the stack. Every reader of JSON that may come from outside
// (requests to `ptft serve`, config.json, tokenizer files, JSONL data) checks it first.
//
//   require_json_depth(text, "'" + path + "'");   // UserError past kMaxJsonDepth levels
//   if (json_depth(body) > kMaxJsonDepth) ...      // the same test, for callers with their own errors
//   nlohmann::json::parse(read_json_text(path, "tokenizer config"));
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ptft {

// Far deeper than any real file (tokenizer.json: 5 levels; a chat request: 4), far below what
// overflows an 8 MB stack.
constexpr std::size_t kMaxJsonDepth = 1000;

// The deepest nesting of arrays and objects in `text` (brackets inside strings do not count);
// counting stops once it passes `limit`.
std::size_t json_depth(std::string_view text, std::size_t limit = kMaxJsonDepth);

// UserError "<what> nests JSON arrays/objects more than 1000 levels deep" when it does.
void require_json_depth(std::string_view text, const std::string& what);

// The bytes of the JSON file `path` (fs::read_file: UserError naming `what` and the path when it
// cannot be read), refused as require_json_depth says when nested too deep.
std::string read_json_text(const std::string& path, const std::string& what);

}  // namespace ptft
