// src/tokenizer/hf_post_processor.h — the "post_processor" of tokenizer.json, reduced to what it
// puts around one sequence: Llama-2's TemplateProcessing adds "<s>" before the text, BERT's
// [CLS] ... [SEP]; ByteLevel adds nothing. Private to src/tokenizer/.
//
//   PostProcessor p = PostProcessor::from_json(j["post_processor"], at["post_processor"], id_of);
//   ids = p.prefix + text ids + p.suffix
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hf_json.h"

namespace ptft::hf {

struct PostProcessor {
  std::vector<int32_t> prefix;
  std::vector<int32_t> suffix;

  // TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence, null; any other
  // type is a UserError. `id_of` looks up the id of a token's text.
  static PostProcessor from_json(const Json& j, const JsonAt& at,
                                 const std::function<std::optional<int32_t>(const std::string&)>& id_of);
};

}  // namespace ptft::hf
