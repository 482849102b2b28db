// ptft/models/model_files.h — any model on disk in, any format out, through the registry: the
// families' foreign formats (models/foreign_format.h) decide; nothing here knows a family.
//
// A model path is
//   - a ptft checkpoint directory (config.json with "ptft" + model.safetensors); one written
//     under a family's former parameter names is converted (ModelFamily::legacy);
//   - a Hugging Face model directory (config.json with "model_type", weights in
//     model.safetensors or a sharded index), read by the family whose "hf" format lists that
//     model_type;
//   - bare weights (a .safetensors file, or a directory with model.safetensors and no
//     config.json), read by the family whose format infers its architecture from the tensors.
//
//   Checkpoint c = read_checkpoint("gpt2-hf-dir", /*with_training_state=*/false);
//   ModelPtr m = model_from_config_json(c.config, c.dir);  load_into(*m, c.model, c.dir);
//   export_model(*m, tok.get(), "hf", "out/hf");   // model.safetensors + the format's files
#pragma once

#include <string>
#include <vector>

#include "ptft/io/checkpoint.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

// Reads any model path (above) as a checkpoint: config.json in ptft's form, weights under ptft's
// names (foreign ones converted to f32 / the model's dtypes). Foreign models and converted
// checkpoints are weights only. UserErrors name the file and the fix.
Checkpoint read_checkpoint(const std::string& path, bool with_training_state = true);
// True for anything read_checkpoint reads.
bool is_model_path(const std::string& path);
// A regular file named *.safetensors, or a directory with model.safetensors and no config.json.
bool is_bare_weights(const std::string& path);

// The names of the foreign formats `model`'s family writes (`ptft export --format`).
std::vector<std::string> export_formats(const ModelImpl& model);
// Every foreign format name of every family.
std::vector<std::string> all_export_formats();
// Writes `model` in its family's `format` at `out_dir` (absent or empty), atomically: the weights
// as model.safetensors (f32; integer buffers as they are) under the format's names, the format's
// files, and `tok` (when given) in the form the foreign tool reads. UserErrors: a format the
// family has not (naming the ones it has), LoRA adapters attached, a tokenizer larger than the
// model's vocabulary, a non-empty `out_dir`. `chat_template` (Jinja, e.g. a fine-tuned chatbot's
// template, data/chat_template_export.h) goes into the written tokenizer_config.json when the
// tokenizer brings none of its own.
void export_model(ModelImpl& model, const Tokenizer* tok, const std::string& format, const std::string& out_dir,
                  const std::string& chat_template = "");

}  // namespace ptft
