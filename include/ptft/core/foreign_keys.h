// ptft/core/foreign_keys.h — the names users bring from other trainers (Hugging Face Trainer and
// PEFT, Ultralytics) and the ptft config key each one means, for "did you mean" messages in
// config files (core/config.cpp) and on the command line (apps/ptft/slips.cpp).
//
//   const ForeignKey* f = foreign_key("learning_rate");   // {"learning_rate", "train.lr", "Hugging Face Trainer", ""}
//   foreign_key("lora-alpha")->key;                       // "finetune.lora.alpha" (- and _ alike)
#pragma once

#include <string>

namespace ptft {

struct ForeignKey {
  const char* name;  // as the other tool spells it
  const char* key;   // the ptft config key (dotted)
  const char* tool;  // where the name comes from
  const char* note;  // what else to know ("" = nothing)
};

// The entry for `name` (case and '-' / '_' ignored), or nullptr.
const ForeignKey* foreign_key(const std::string& name);

// "'learning_rate' is Hugging Face Trainer's name: ptft's key is 'train.lr'" (+ the note), for a hint.
std::string foreign_key_hint(const ForeignKey& f);

}  // namespace ptft
