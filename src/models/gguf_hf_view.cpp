#include "gguf_hf_view.h"

#include "family_formats.h"

#include "ptft/core/error.h"
#include "ptft/core/json_depth.h"
#include "ptft/core/fs.h"
#include "ptft/core/temp_dir.h"

namespace ptft {

const ForeignFormat& hf_format_of(const ModelImpl& model) {
  const ModelFamily& family = find_model_family(model.family(), "the model");
  for (const auto& f : family.formats)
    if (f.name == "hf") return f;
  throw UserError("a '" + model.family() + "' model has no GGUF form (GGUF holds the causal language models "
                      "llama.cpp runs: the gpt and llama families)",
                  "a " + model.family() + " model exports as: " + export_formats_text(family));
}

// config.json of the model's Hugging Face form (what export --format hf writes).
nlohmann::json hf_config_of_model(const ModelImpl& model, const Tokenizer* tok) {
  const ForeignFormat& hf = hf_format_of(model);
  TempDir tmp("ptft-gguf-config");
  hf.write_files(model, tok, tmp.path());
  return nlohmann::json::parse(read_json_text(tmp.path() + "/config.json", "Hugging Face config"));
}

}  // namespace ptft
