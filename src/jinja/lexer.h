// src/jinja/lexer.h — splits a template into tokens the way jinja2's lexer does with
// trim_blocks and lstrip_blocks on (private to src/jinja/): newlines normalised to "\n" and one
// trailing newline dropped; `{%- -%}` / `{{- -}}` / `{#- -#}` strip whitespace on their side;
// trim_blocks drops the first newline after a block or comment tag (`+%}` keeps it); lstrip_blocks
// drops spaces and tabs before a block or comment tag that starts its line (`{%+` keeps them).
//
//   std::vector<Token> tokens = tokenize(source, "tokenizer_config.json chat_template");
#pragma once

#include <string>
#include <vector>

namespace ptft::jinja {

enum class TokenType {
  kData,        // text outside tags (value: the text, whitespace control applied)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,        // identifiers and keywords
  kString,      // value: the unescaped string
  kInteger,     // value: decimal digits
  kFloat,       // value: the literal, '_' removed
  kOperator,    // value: the operator ("+", "//", "==", "(", ...)
  kEnd,         // end of the template
};

struct Token {
  TokenType type;
  std::string value;
  int line;  // 1-based line of the token's first character
};

// Throws UserError "<origin>, line N: <what>" on a malformed tag (unclosed comment, stray
// character, unbalanced bracket, bad string escape).
std::vector<Token> tokenize(const std::string& source, const std::string& origin);

}  // namespace ptft::jinja
