#include "ptft/infer/chat_prompt.h"

#include <algorithm>

#include "ptft/core/error.h"

namespace ptft {

ChatTemplate chat_template_for(const Pretrained& p, const std::string& spec, const std::string& option) {
  if (!spec.empty()) return ChatTemplate::from_spec(spec, option);
  if (p.chat_template) return *p.chat_template;
  throw UserError("checkpoint '" + p.dir + "' has no chat template (none in config.json ptft.chat_template, none with its tokenizer)",
                  "fine-tune it with SFT (task sft, JSONL data), or pass " + option + " ptft-chat");
}

SamplingOptions with_turn_end(SamplingOptions opt, const ChatTemplate& t) {
  const std::string& end = t.assistant_end();
  if (!end.empty() && std::find(opt.stop.begin(), opt.stop.end(), end) == opt.stop.end()) opt.stop.push_back(end);
  return opt;
}

}  // namespace ptft
