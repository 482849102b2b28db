// src/tokenizer/hf_decoder.h — the "decoder" of tokenizer.json: token strings -> text
// (ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder, sequences). Private to
// src/tokenizer/.
//
// Text stays bytes: where byte tokens spell something that is not UTF-8 (a character cut in
// two), the bytes are kept as they are, so that decoding a growing list of ids streams (see
// ptft/infer/text_stream.h); Hugging Face would show U+FFFD there.
//
//   auto d = make_decoder(j["decoder"], at["decoder"]);   // nullptr for null: tokens joined by " "
//   std::vector<DecodePiece> t = {{"Hello", false}, {"Ġworld", false}};
//   d->decode_chain(&t);                                   // {"Hello world"}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hf_json.h"

namespace ptft::hf {

struct DecodePiece {
  std::string text;
  bool added;  // an added token's content (ByteLevel passes these through as they are)
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<DecodePiece>* tokens) const = 0;
};

// Any type other than those above is a UserError naming it.
std::unique_ptr<Decoder> make_decoder(const Json& j, const JsonAt& at);

// transformers' clean_up_tokenization(): " ." -> ".", " n't" -> "n't", ... (tokenizer_config.json's
// clean_up_tokenization_spaces).
std::string clean_up_tokenization(std::string text);

}  // namespace ptft::hf
