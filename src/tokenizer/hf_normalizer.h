// src/tokenizer/hf_normalizer.h — the "normalizer" of tokenizer.json: text -> text before
// pre-tokenization (Unicode forms via ICU, lowercase, prepend, replace, strip, sequences).
// Private to src/tokenizer/.
//
//   auto n = make_normalizer(j["normalizer"], at["normalizer"]);   // nullptr for null
//   std::string s = "Hello"; n->normalize(&s);
#pragma once

#include <memory>
#include <string>

#include "hf_json.h"

namespace ptft::hf {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // `s` is valid UTF-8 and stays so.
  virtual void normalize(std::string* s) const = 0;
};

// NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, StripAccents, Sequence; null gives
// nullptr. Any other type is a UserError naming it.
std::unique_ptr<Normalizer> make_normalizer(const Json& j, const JsonAt& at);

}  // namespace ptft::hf
