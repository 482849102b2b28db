// ptft/data/chat_template.h — how a conversation becomes one token stream (SFT and `ptft chat`).
//
// A template is plain text pieces around each message, stored as JSON in the checkpoint's
// config.json (ptft.chat_template), so a fine-tuned chatbot carries the format it learnt:
//
//   {"name": "ptft-chat",
//    "system": "<|system|>\n{content}\n", "user": "<|user|>\n{content}\n",
//    "assistant": "<|assistant|>\n{content}", "assistant_end": "<|endoftext|>\n"}
//
// The assistant prefix ("<|assistant|>\n") is a prompt piece; the assistant content and
// assistant_end are what the model learns to produce (the SFT loss covers exactly those tokens),
// so a trained model ends its turn with end-of-text and generation stops by itself.
//
// Or the Jinja chat template of a Hugging Face tokenizer (tokenizer_config.json's chat_template,
// chat_template.jinja: Llama-3, Qwen, Mistral ...), rendered as transformers' apply_chat_template
// renders it (ptft/jinja/template.h), stored as {"name", "jinja", "bos_token", "eos_token",
// "assistant_end"}. Its trained pieces are found from the rendering: an assistant message's text
// runs from where the generation prompt of the conversation before it ends to the template's
// end-of-turn text (Llama-3's <|eot_id|>, Qwen's <|im_end|>) after it, that included.
//
//   ChatTemplate t = ChatTemplate::builtin("ptft-chat");
//   std::vector<ChatMessage> conv = {{"user", "What is a tort?"}};
//   std::string prompt = t.render_prompt(conv);   // ... "<|assistant|>\n"
//   auto pieces = t.render_pieces(conv_with_answer);  // [(text, trained?)...]
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ptft {

class JinjaTemplate;
class Tokenizer;

struct ChatMessage {
  std::string role;     // "system", "user" or "assistant"
  std::string content;
};

// One rendered piece of a conversation: its text and whether the loss covers it.
struct ChatPiece {
  std::string text;
  bool trained = false;
};

class ChatTemplate {
 public:
  // Built-in templates by name ("ptft-chat"); UserError listing the names otherwise.
  static ChatTemplate builtin(const std::string& name);
  // From a JSON object (config.json's ptft.chat_template or a user file); `source` names it in
  // errors. Exactly the keys system, user, assistant, assistant_end (strings) and optionally
  // name (default "custom"); each role piece holds "{content}" exactly once, assistant_end
  // never. UserError otherwise (an unknown key with the nearest valid one).
  static ChatTemplate from_json(const nlohmann::json& j, const std::string& source);
  // `spec`: a built-in name or a path to a JSON file with the object above (its name defaults
  // to the path). `where` (a config key or option) starts error messages.
  static ChatTemplate from_spec(const std::string& spec, const std::string& where);
  // A Jinja chat template (`origin` names it in errors); bos/eos_token are the strings the
  // template sees as bos_token / eos_token; assistant_end the text that ends an assistant turn
  // ("": found from a rendering, see of_tokenizer). UserError on a syntax error or an
  // unsupported construct.
  static ChatTemplate from_jinja(const std::string& source, const std::string& origin, const std::string& bos_token,
                                 const std::string& eos_token, const std::string& assistant_end = "");
  // The Jinja template that came with `tok` (its bos/eos from the tokenizer), or nullptr: none.
  static std::shared_ptr<ChatTemplate> of_tokenizer(const Tokenizer& tok, const std::string& origin);
  bool is_jinja() const { return jinja_ != nullptr; }
  nlohmann::json to_json() const;
  const std::string& name() const { return name_; }

  // The conversation as pieces, every assistant message's content (+ any template text after
  // "{content}") + assistant_end marked trained. Neighbouring pieces with the same mark are
  // joined and empty ones dropped, so marks alternate: [prompt, answer, prompt, answer...].
  // A role other than system/user/assistant is a UserError.
  std::vector<ChatPiece> render_pieces(const std::vector<ChatMessage>& messages) const;
  // The conversation followed by the assistant prefix: what generation continues from.
  std::string render_prompt(const std::vector<ChatMessage>& messages) const;
  // Text that ends an assistant turn (a stop string for generation).
  const std::string& assistant_end() const { return assistant_end_; }

 private:
  // The Jinja template's rendering of `messages` (transformers' apply_chat_template).
  std::string render_jinja(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  std::vector<ChatPiece> jinja_pieces(const std::vector<ChatMessage>& messages) const;

  std::string name_, system_, user_, assistant_, assistant_end_;
  std::shared_ptr<const JinjaTemplate> jinja_;  // set: a Jinja template (the four pieces unused)
  std::string jinja_source_, bos_token_, eos_token_;
};

}  // namespace ptft
