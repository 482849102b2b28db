// src/jinja/parser.h — tokens -> statement list, with jinja2's grammar and operator precedence
// (private to src/jinja/). Constructs outside the subset (include, import, extends, block, call,
// filter blocks, raw, with, recursive loops, *args) and unknown filters and tests are errors
// here, at parse time, naming the construct and its line.
//
//   NodeList body = parse(tokenize(source, origin), origin);
#pragma once

#include <string>
#include <vector>

#include "ast.h"
#include "lexer.h"

namespace ptft::jinja {

// Throws UserError "<origin>, line N: ..." on a syntax error or an unsupported construct.
NodeList parse(const std::vector<Token>& tokens, const std::string& origin);

// Whether a filter / test of that name exists (filters.cpp, is_tests.cpp).
bool has_filter(const std::string& name);
bool has_test(const std::string& name);

}  // namespace ptft::jinja
