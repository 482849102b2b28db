#include "ptft/infer/model_engine.h"

#include "ptft/core/error.h"
#include "ptft/infer/chat_prompt.h"

namespace ptft {
namespace {

// Thrown from the text callback when the client has gone: unwinds the generation loop.
struct Cancelled {};

std::string finish_reason(const std::string& stop_reason) {
  return stop_reason == "eot" || stop_reason == "stop_string" ? "stop" : "length";
}

}  // namespace

ModelEngine::ModelEngine(Pretrained pretrained, std::string model_id, const std::string& template_spec)
    : pretrained_(std::move(pretrained)),
      generator_(pretrained_.model, pretrained_.tokenizer, "'" + pretrained_.dir + "'"),
      id_(std::move(model_id)) {
  if (!template_spec.empty() || pretrained_.chat_template)
    tmpl_ = chat_template_for(pretrained_, template_spec, "--template");
}

int64_t ModelEngine::context_length() const { return generator_.context_length(); }

int64_t ModelEngine::count_tokens(const std::string& prompt) const {
  return static_cast<int64_t>(generator_.prompt_ids(prompt).size());
}

std::string ModelEngine::render_chat(const std::vector<ChatMessage>& messages) const {
  if (!tmpl_) throw UserError("the model '" + id_ + "' has no chat template", "use /v1/completions, or serve with --template");
  return tmpl_->render_prompt(messages);
}

GenerationOutcome ModelEngine::generate(const std::string& prompt, const GenerationParams& params,
                                        const TextSink& on_text) {
  SamplingOptions o;
  o.max_new_tokens = params.max_tokens;
  o.temperature = params.temperature;
  o.top_p = params.top_p;
  o.seed = params.seed;
  o.stop = params.stop;
  if (tmpl_) o = with_turn_end(o, *tmpl_);
  GenerationOutcome out;
  try {
    const GenerateResult r = generator_.generate(prompt, o, [&](const std::string& piece) {
      out.text += piece;
      ++out.completion_tokens;  // an estimate while streaming; replaced by the exact count below
      if (on_text && !on_text(piece)) throw Cancelled{};
    });
    out.text = r.text;
    out.prompt_tokens = r.prompt_tokens;
    out.completion_tokens = static_cast<int64_t>(r.ids.size());
    out.finish_reason = finish_reason(r.stop_reason);
  } catch (const Cancelled&) {
    out.prompt_tokens = count_tokens(prompt);
    out.finish_reason = "cancelled";
  }
  return out;
}

}  // namespace ptft
