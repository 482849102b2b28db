// ChatTemplate over a Hugging Face Jinja chat template: rendering as transformers'
// apply_chat_template, and the assistant's text found from the rendering (SFT's loss mask).
#include <nlohmann/json.hpp>

#include "ptft/core/error.h"
#include "ptft/core/log.h"
#include "ptft/data/chat_template.h"
#include "ptft/jinja/template.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

namespace {

// A stand-in answer whose rendering tells where an assistant message ends.
const char* const kProbe = "PTFT_ASSISTANT_PROBE_7f3a";

// What follows an answer in a rendering of [user, assistant probe]: the end-of-turn text is the
// first of `specials` found there (only whitespace before it), else that text up to its first
// line break, else eos_token. A template may append more after the last message (the first
// Llama-3 template always adds the assistant header), hence the first special token only.
std::string find_assistant_end(const std::string& rendered, const std::vector<std::string>& specials,
                               const std::string& eos_token) {
  const auto at = rendered.find(kProbe);
  if (at == std::string::npos) return eos_token;
  std::string after = rendered.substr(at + std::char_traits<char>::length(kProbe));
  after.erase(0, after.find_first_not_of(" \n"));
  std::string best;
  for (const auto& s : specials)
    if (!s.empty() && after.rfind(s, 0) == 0 && s.size() > best.size()) best = s;
  if (!best.empty()) return best;
  const std::string line = after.substr(0, after.find('\n'));
  return line.empty() ? eos_token : line;
}

}  // namespace

ChatTemplate ChatTemplate::from_jinja(const std::string& source, const std::string& origin,
                                      const std::string& bos_token, const std::string& eos_token,
                                      const std::string& assistant_end) {
  ChatTemplate t;
  t.name_ = origin;
  t.jinja_ = std::make_shared<const JinjaTemplate>(JinjaTemplate::parse(source, origin));
  t.jinja_source_ = source;
  t.bos_token_ = bos_token;
  t.eos_token_ = eos_token;
  t.assistant_end_ = assistant_end;
  if (t.assistant_end_.empty())
    t.assistant_end_ = find_assistant_end(t.render_jinja({{"user", "hi"}, {"assistant", kProbe}}, false), {eos_token},
                                          eos_token);
  return t;
}

std::shared_ptr<ChatTemplate> ChatTemplate::of_tokenizer(const Tokenizer& tok, const std::string& origin) {
  const std::string source = tok.chat_template();
  if (source.empty()) return nullptr;
  const std::vector<int32_t> prefix = tok.document_prefix();
  std::string bos;
  if (!prefix.empty()) bos = tok.id_to_token(prefix.front());
  else if (auto id = tok.token_to_id("<|begin_of_text|>")) bos = tok.id_to_token(*id);
  else if (auto s = tok.token_to_id("<s>")) bos = tok.id_to_token(*s);
  const std::string eos = tok.id_to_token(tok.eot_id());
  auto t = std::make_shared<ChatTemplate>(from_jinja(source, origin, bos, eos, eos));
  t->assistant_end_ =
      find_assistant_end(t->render_jinja({{"user", "hi"}, {"assistant", kProbe}}, false), tok.special_tokens(), eos);
  return t;
}

std::string ChatTemplate::render_jinja(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  const nlohmann::ordered_json context = {{"messages", list},
                                          {"tools", nullptr},
                                          {"documents", nullptr},
                                          {"add_generation_prompt", add_generation_prompt},
                                          {"bos_token", bos_token_},
                                          {"eos_token", eos_token_}};
  return jinja_->render(context);
}

// Each assistant message i is trained from where the generation prompt of messages [0, i) ends
// (it must begin the whole conversation's rendering) through the first assistant_end after it.
// Templates that render a conversation's start differently from its generation prompt leave
// such turns untrained, with a note; none found is an error.
std::vector<ChatPiece> ChatTemplate::jinja_pieces(const std::vector<ChatMessage>& messages) const {
  const std::string full = render_jinja(messages, false);
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  int64_t answers = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role != "assistant") continue;
    ++answers;
    const std::vector<ChatMessage> before(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(i));
    const std::string prompt = render_jinja(before, true);
    const std::size_t begin = spans.empty() ? 0 : spans.back().second;
    if (prompt.size() < begin || full.compare(0, prompt.size(), prompt) != 0) continue;
    const std::size_t end = full.find(assistant_end_, prompt.size());
    if (end == std::string::npos) continue;
    spans.emplace_back(prompt.size(), end + assistant_end_.size());
  }
  if (answers > 0 && spans.empty())
    throw UserError("chat template '" + name_ + "': cannot find the assistant's answers in the rendered conversation",
                    "the template renders a conversation's start differently from its generation prompt; use a "
                    "ptft chat template (data.chat_template: ptft-chat or a JSON file)");
  if (static_cast<int64_t>(spans.size()) < answers) {
    static bool told = false;
    if (!told)
      log_info("note: chat template '" + name_ + "' renders earlier assistant turns differently from how they were "
               "generated; only turns found in the rendering are trained");
    told = true;
  }
  std::vector<ChatPiece> out;
  std::size_t at = 0;
  for (const auto& [b, e] : spans) {
    if (b > at) out.push_back({full.substr(at, b - at), false});
    out.push_back({full.substr(b, e - b), true});
    at = e;
  }
  if (at < full.size()) out.push_back({full.substr(at), false});
  return out;
}

}  // namespace ptft
