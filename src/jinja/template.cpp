// JinjaTemplate: parse once, render many times; see ptft/jinja/template.h.
#include "ptft/jinja/template.h"

#include "lexer.h"
#include "parser.h"
#include "ptft/core/error.h"
#include "render.h"

namespace ptft {

struct JinjaTemplate::Impl {
  std::string origin;
  jinja::NodeList body;
};

JinjaTemplate JinjaTemplate::parse(const std::string& source, const std::string& origin) {
  auto impl = std::make_shared<Impl>();
  impl->origin = origin;
  impl->body = jinja::parse(jinja::tokenize(source, origin), origin);
  return JinjaTemplate(std::move(impl));
}

std::string JinjaTemplate::render(const nlohmann::ordered_json& context, const JinjaRenderOptions& options) const {
  return render_with_generation_spans(context, options).text;
}

JinjaTemplate::Rendered JinjaTemplate::render_with_generation_spans(const nlohmann::ordered_json& context,
                                                                    const JinjaRenderOptions& options) const {
  if (!context.is_object())
    throw UserError("the context of " + impl_->origin + " must be a JSON object, got " + context.type_name(),
                    "pass {\"messages\": [...], \"add_generation_prompt\": ..., ...}");
  jinja::Value ctx;
  try {
    ctx = jinja::Value::from_json(context);
  } catch (const jinja::RenderError& e) {
    throw UserError("the context of " + impl_->origin + ": " + e.message, "pass JSON values (no binary)");
  }
  Rendered r;
  r.text = jinja::render(impl_->body, ctx, impl_->origin, options, &r.generation_spans);
  return r;
}

const std::string& JinjaTemplate::origin() const { return impl_->origin; }

}  // namespace ptft
