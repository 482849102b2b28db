// spm_model_check.h (private to src/tokenizer) — what ptft checks in an spm.model before
// libsentencepiece reads it.
//
// libsentencepiece 0.1.97 trusts a model's precompiled normalization table (the Darts trie and
// string blob of normalizer_spec / denormalizer_spec.precompiled_charsmap): a damaged one makes
// Encode read outside it (a SEGV in strlen, found by fuzz_sentencepiece). ptft trains with the
// "identity" normalization, whose table is empty, so a model with a table is refused. The model
// is read as protobuf wire format, top-level fields and those two messages only.
//
//   if (std::string why = spm_model_defect(bytes); !why.empty()) throw UserError("..." + why);
#pragma once

#include <string>
#include <string_view>

namespace ptft {

// Why ptft refuses the serialized ModelProto `model` ("it has a normalization table ..."), or ""
// when nothing is found (libsentencepiece then checks the rest).
std::string spm_model_defect(std::string_view model);

}  // namespace ptft
