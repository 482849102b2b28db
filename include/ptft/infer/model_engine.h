// ptft/infer/model_engine.h — `ptft serve`'s engine: a loaded causal language model behind the
// torch-free GenerationEngine interface (serve/engine.h) that the OpenAI layer speaks.
//
// Prompts are encoded as `ptft generate` encodes them (the tokenizer's document start, unless the
// text spells it); chat requests are rendered with the checkpoint's chat template (or
// --template); every generation also stops where the template ends an assistant's turn. A
// client that goes away (on_text returns false) stops the generation at the next token.
//
//   ModelEngine engine(load_pretrained("runs/chat", {}), "chat", "");
//   GenerationOutcome o = engine.generate(engine.render_chat({{"user", "Hi"}}), params, sink);
#pragma once

#include <optional>
#include <string>

#include "ptft/infer/generate.h"
#include "ptft/infer/pretrained.h"
#include "ptft/serve/engine.h"

namespace ptft {

class ModelEngine : public GenerationEngine {
 public:
  // `template_spec`: --template (a built-in name or JSON file), "" = the checkpoint's own (a
  // model without one serves completions only). UserError unless the model is a causal LM.
  ModelEngine(Pretrained pretrained, std::string model_id, const std::string& template_spec);

  std::string model_id() const override { return id_; }
  int64_t context_length() const override;
  int64_t count_tokens(const std::string& prompt) const override;
  bool has_chat_template() const override { return tmpl_.has_value(); }
  std::string render_chat(const std::vector<ChatMessage>& messages) const override;
  GenerationOutcome generate(const std::string& prompt, const GenerationParams& params,
                             const TextSink& on_text) override;

 private:
  Pretrained pretrained_;
  Generator generator_;
  std::optional<ChatTemplate> tmpl_;
  std::string id_;
};

}  // namespace ptft
