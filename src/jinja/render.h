// src/jinja/render.h — runs a parsed template (private to src/jinja/): scopes as jinja2 keeps
// them (a for-loop iteration and a macro call see the enclosing variables, their own `set`s stay
// inside; `if` is no scope), the limits of JinjaRenderOptions, errors turned into UserErrors
// naming the origin and line.
#pragma once

#include <string>

#include "ast.h"
#include "ptft/jinja/template.h"

namespace ptft::jinja {

// The output; `generation_spans` (when not null) receives the byte spans of the
// {% generation %} blocks written directly to it.
std::string render(const NodeList& body, const Value& context, const std::string& origin,
                   const JinjaRenderOptions& options,
                   std::vector<std::pair<std::size_t, std::size_t>>* generation_spans = nullptr);

}  // namespace ptft::jinja
