// ptft/io/name_map.h — a foreign weight format's names as data, and the one converter that
// applies such a map in both directions (Hugging Face directories, torchvision state dicts, and
// ptft checkpoints written under older names).
//
// A map lists rules from ptft names to foreign names. Patterns use `*` for one name part (no
// dots: a layer number) and `**` for any run of characters (dots included); the parts a ptft
// pattern captures fill the foreign pattern in order. A ptft tensor no rule names keeps its name.
//
//   NameMap m;
//   m.rules = {{"transformer.h.*.attn.c_attn.weight", {}, /*transpose=*/true}};   // Conv1D (in, out)
//   m.aliases = {{"h.**", "transformer.h.**"}};          // GPT2Model files lack the prefix
//   m.tied = {{"lm_head.weight", "transformer.wte.weight"}};
//   m.ignored = {"transformer.h.*.attn.bias"};           // old causal-mask buffers
//   MappedWeights w = from_foreign(m, file_tensors, state_dict(model), dir);  // ptft names, checked
//   TensorMap out = to_foreign(m, state_dict(model));                         // foreign names
//
// Several foreign names in one rule are one ptft tensor concatenated along dim 0 (fused q|k|v);
// a rule with `part` reads one of `part.count` equal slices of a fused foreign tensor.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ptft/io/tensor_io.h"

namespace ptft {

enum class Presence {
  kRequired,   // a file without it is an error
  kOptional,   // a file may lack it: the model's fresh value is kept and a note says so
  kDefaulted,  // a file may lack it: the model's value is kept silently (counters)
};

struct NameRule {
  NameRule(std::string ptft_pattern, std::vector<std::string> foreign_patterns = {}, bool transposed = false,
           Presence how = Presence::kRequired)
      : ptft(std::move(ptft_pattern)), foreign(std::move(foreign_patterns)), transpose(transposed), presence(how) {}
  std::string ptft;                  // pattern over ptft names
  std::vector<std::string> foreign;  // patterns; empty = the ptft name itself; several = concatenated (dim 0)
  bool transpose = false;            // a 2-D weight stored (in, out) in the foreign file
  Presence presence = Presence::kRequired;
  struct Slice {
    int index = 0, count = 1;        // slice `index` of `count` equal parts of the foreign tensor (dim 0)
  } part;
};

// A foreign tensor that is not stored by ptft because it is another one (a tied output head).
struct TiedName {
  TiedName(std::string foreign_pattern, std::string ptft_pattern, bool copy_stands_in = false)
      : foreign(std::move(foreign_pattern)), ptft(std::move(ptft_pattern)), stands_in(copy_stands_in) {}
  std::string foreign;      // pattern over foreign names
  std::string ptft;         // the ptft tensor it must equal (same captures)
  bool stands_in = false;   // a file with only the tied copy gives the ptft tensor its value
};

struct NameMap {
  std::vector<NameRule> rules;                               // first match wins
  std::vector<std::pair<std::string, std::string>> aliases;  // other spellings -> canonical, each applied in turn
  std::vector<TiedName> tied;
  std::vector<std::string> ignored;                          // foreign patterns skipped when reading
  // Words of the messages: "'<source>': 2 tensor(s) do not fit <architecture>: 'x' is [..], <shape_source> [..]",
  // "'<source>' holds tensor(s) that <model> does not have: ..."; each with its hint.
  std::string model = "the model";
  std::string architecture = "the model";
  std::string shape_source = "expected";
  std::string shape_hint = "the weights were saved for another architecture";
  std::string dtype_hint = "the weights file is not this model";
  std::string missing_hint = "the weights file is incomplete";
  std::string unknown_hint;
  std::string tied_hint = "an untied model cannot be loaded without changing its outputs";
};

// Whether `name` matches `pattern`; the captured parts go to `captures` (when not null).
bool match_name(const std::string& pattern, const std::string& name, std::vector<std::string>* captures = nullptr);
// `pattern` with its wildcards replaced by `captures` in order.
std::string fill_name(const std::string& pattern, const std::vector<std::string>& captures);

// Tensors as a foreign file set names them, with the file each came from (for messages).
struct ForeignTensors {
  TensorMap tensors;
  std::map<std::string, std::string> file_of;
};

struct MappedWeights {
  TensorMap tensors;               // every tensor of `expected`, under ptft names, in its dtype
  std::vector<std::string> fresh;  // foreign names of kOptional tensors the file lacked
};

// The foreign tensors `in` under ptft names: every name of `expected` (the model's state dict:
// the names, shapes, dtypes, and the values kept for kOptional/kDefaulted tensors a file lacks).
// Floating-point tensors of any precision are converted to the expected dtype. UserErrors, each
// naming `source` and the tensors: shapes that do not fit (first), non-float weights, missing
// tensors, tied copies that differ, and tensors the map does not know (with the map's hints).
// With `into_expected`, each value is converted straight into `expected`'s tensor (a model's own
// parameter; copy_ converts the dtype) and that tensor is returned: the weights exist once, not
// as a model plus a converted copy.
MappedWeights from_foreign(const NameMap& map, const ForeignTensors& in, const TensorMap& expected,
                           const std::string& source, bool into_expected = false);

// The tensors of `state` (ptft names) under the foreign names: fused parts concatenated or split,
// transposed weights transposed; tied and ignored names are not written.
TensorMap to_foreign(const NameMap& map, const TensorMap& state);

}  // namespace ptft
