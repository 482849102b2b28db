#include "ptft/models/model_files.h"

#include <algorithm>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/log.h"
#include "ptft/io/hf_files.h"
#include "ptft/models/gguf_model.h"
#include "ptft/tokenizer/gguf_vocab.h"
#include "family_formats.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

// A foreign model's weights under ptft's names, checked against the architecture of `config`.
Checkpoint map_foreign(const ForeignFormat& format, const ForeignSource& src, nlohmann::json config,
                       const std::string& source) {
  ModelPtr model = model_from_config_json(config, src.config_path.empty() ? source : src.config_path);
  MappedWeights w = from_foreign(format.names(*model), *src.tensors, state_dict(*model), source, /*into_expected=*/true);
  if (!w.fresh.empty())
    log_info("note: '" + source + "' has no " + join_first(w.fresh) + " (" + std::to_string(w.fresh.size()) +
             " tensors): freshly initialised");
  Checkpoint c;
  c.dir = src.path;
  c.config = std::move(config);
  c.config["ptft"]["source"] = format.source_tag + ":" + src.path;
  c.model = std::move(w.tensors);  // the parameters of `model`
  c.built = model;
  return c;
}

std::string hf_types_list() {
  std::string list;
  for (const auto& f : model_families())
    for (const auto& format : f.formats)
      for (const auto& t : format.hf_model_types) list += (list.empty() ? "\"" : ", \"") + t + "\" (" + f.name + ")";
  return list;
}

// The format of `family` that reads Hugging Face model_type `type`.
const ForeignFormat& hf_format_reading(const ModelFamily& family, const std::string& type) {
  return *std::find_if(family.formats.begin(), family.formats.end(), [&](const ForeignFormat& f) {
    return std::count(f.hf_model_types.begin(), f.hf_model_types.end(), type) > 0;
  });
}

Checkpoint read_hf_dir(const std::string& dir) {
  ForeignSource src;
  src.path = dir;
  src.config_path = dir + "/config.json";
  src.config = read_json_file(src.config_path, "Hugging Face model config");
  if (!src.config.is_object() || !src.config.contains("model_type") || !src.config["model_type"].is_string())
    throw UserError("'" + src.config_path + "' has no \"model_type\"", "is this a Hugging Face model directory?");
  const std::string type = src.config["model_type"].get<std::string>();
  const ModelFamily* family = find_hf_family(type);
  if (!family)
    throw UserError("'" + src.config_path + "': model_type \"" + type + "\" is not supported",
                    "ptft reads Hugging Face model_types " + hf_types_list() + " and its own checkpoints");
  const ForeignFormat& format = hf_format_reading(*family, type);
  nlohmann::json config;  // before the weights: a bad config says so first
  try {
    config = format.read_config(src);
  } catch (const nlohmann::json::exception& e) {  // a key of the wrong JSON type
    throw UserError("'" + src.config_path + "' is not a valid config of " + format.summary + ": " + e.what(),
                    "compare it with what save_pretrained writes");
  }
  const ForeignTensors tensors = load_hf_tensors(dir);
  src.tensors = &tensors;
  return map_foreign(format, src, std::move(config), dir);
}

// A GGUF file, read as the Hugging Face model it stands for (models/gguf_model.h).
Checkpoint read_gguf(const std::string& path) {
  GgufAsHf g = read_gguf_as_hf(path);
  const std::string type = g.config["model_type"].get<std::string>();
  const ModelFamily* family = find_hf_family(type);
  PTFT_CHECK(family != nullptr, "no family reads the model_type '" + type + "' of a GGUF file");
  const ForeignFormat& format = hf_format_reading(*family, type);
  ForeignSource src;
  src.path = path;
  src.config_path = path;
  src.config = g.config;
  src.tensors = &g.tensors;
  Checkpoint c = map_foreign(format, src, format.read_config(src), path);
  c.config["ptft"]["source"] = "gguf:" + path;
  return c;
}

Checkpoint read_bare_weights(const std::string& path) {
  for (const auto& family : model_families())
    for (const auto& format : family.formats) {
      if (!format.reads_bare_weights) continue;
      std::error_code ec;
      const std::string file = sfs::is_directory(path, ec) ? path + "/model.safetensors" : path;
      ForeignTensors tensors;
      try {
        tensors.tensors = load_tensors(file);
      } catch (const UserError& e) {
        throw e.with_context("reading " + format.summary);
      }
      for (const auto& [name, t] : tensors.tensors) tensors.file_of[name] = file;
      ForeignSource src;
      src.path = path;
      src.tensors = &tensors;
      return map_foreign(format, src, format.read_config(src), file);
    }
  throw UserError("'" + path + "' holds bare weights (no config.json), and no model family reads those",
                  "a checkpoint needs its config.json next to model.safetensors");
}

// A ptft checkpoint written under its family's former parameter names gets today's names.
void convert_legacy_names(Checkpoint& c) {
  if (!c.config.contains("ptft") || !c.config["ptft"].contains("family") || !c.config["ptft"]["family"].is_string()) return;
  const std::string name = c.config["ptft"]["family"];
  auto family = std::find_if(model_families().begin(), model_families().end(), [&](const ModelFamily& f) { return f.name == name; });
  if (family == model_families().end() || family->legacy.marker.empty()) return;
  const bool old = std::any_of(c.model.begin(), c.model.end(), [&](const auto& kv) { return match_name(family->legacy.marker, kv.first); });
  if (!old) return;
  const ModelPtr model = model_from_config_json(c.config, c.dir + "/config.json");
  const TensorMap expected = state_dict(*model);
  for (auto [tensors, file] : {std::pair<TensorMap*, const char*>{&c.model, "/model.safetensors"}, {&c.training_model, "/training_model.safetensors"}}) {
    if (tensors->empty()) continue;
    ForeignTensors in;
    in.tensors = *tensors;
    for (const auto& kv : in.tensors) in.file_of[kv.first] = c.dir + file;
    *tensors = from_foreign(family->legacy.names, in, expected, c.dir + file).tensors;
  }
  log_info("note: '" + c.dir + "' was written by " + family->legacy.until +
           " under former parameter names; they are read as today's");
}

const ForeignFormat* find_format(const ModelFamily& family, const std::string& name) {
  for (const auto& f : family.formats)
    if (f.name == name) return &f;
  return nullptr;
}

// What every export checks before anything is written; returns the state dict.
TensorMap export_state(ModelImpl& model, const Tokenizer* tok, const std::string& out_dir) {
  TensorMap sd = state_dict(model);
  for (const auto& [name, t] : sd)
    if (name.find("lora_") != std::string::npos)
      throw UserError("the model has LoRA adapters attached ('" + name + "')",
                      "merge the adapters first: ptft export --merge-lora");
  if (tok && model.vocab_size() > 0 && tok->vocab_size() > model.vocab_size())
    throw UserError("the tokenizer has " + std::to_string(tok->vocab_size()) + " tokens but the model's vocab_size is " +
                        std::to_string(model.vocab_size()),
                    "export the tokenizer the model was trained with");
  fs::require_new_dir(out_dir, "output directory");
  return sd;
}

void write_export_tokenizer(const ForeignFormat& format, const ModelImpl& model, const Tokenizer& tok,
                            const std::string& dir, const std::string& out_dir) {
  if (format.tokenizer_kind.empty()) return;
  if (tok.kind() == format.tokenizer_kind) {
    format.write_tokenizer(model, tok, dir);
    return;
  }
  tok.save(dir + "/ptft_tokenizer");
  // A SentencePiece BPE tokenizer also as the tokenizer.json it equals (tokenizer/gguf_vocab.h),
  // which Hugging Face's AutoTokenizer loads (PreTrainedTokenizerFast) whatever the model type;
  // ptft reads ptft_tokenizer/ first.
  try {
    const TokenizerPtr json = as_tokenizer_json(tok);
    if (format.tokenizer_kind == "tokenizer-json") format.write_tokenizer(model, *json, dir);
    else json->save(dir);
    log_info("note: the " + tok.kind() + " tokenizer is written as tokenizer.json (PreTrainedTokenizerFast) and in "
             "ptft's form in " + out_dir + "/ptft_tokenizer/");
    return;
  } catch (const UserError& e) {
    log_info("note: " + std::string(e.what()) + "; no tokenizer.json is written");
  }
  log_info("note: the " + tok.kind() + " tokenizer cannot be read by Hugging Face's " + format.tokenizer_class +
           "; it is saved in ptft's form in " + out_dir + "/ptft_tokenizer/ (ptft tokenizer encode --tokenizer reads it)");
}

// The template into tokenizer_config.json, unless that has one (the tokenizer's own) or is absent.
void add_chat_template(const std::string& path, const std::string& chat_template) {
  std::error_code ec;
  if (!sfs::is_regular_file(path, ec)) return;
  nlohmann::json config = read_json_file(path, "tokenizer config");
  if (!config.is_object() || config.contains("chat_template")) return;
  config["chat_template"] = chat_template;
  fs::write_file_atomic(path, config.dump(2) + "\n");
}

}  // namespace

bool is_bare_weights(const std::string& path) {
  std::error_code ec;
  if (sfs::is_regular_file(path, ec)) return sfs::path(path).extension() == ".safetensors";
  return sfs::is_directory(path, ec) && sfs::is_regular_file(path + "/model.safetensors", ec) &&
         !sfs::exists(path + "/config.json", ec);
}

bool is_model_path(const std::string& path) {
  return is_checkpoint_dir(path) || is_hf_model_dir(path) || is_bare_weights(path) || is_gguf_file(path);
}

Checkpoint read_checkpoint(const std::string& path, bool with_training_state) {
  std::error_code ec;
  if (sfs::exists(path, ec) && is_bare_weights(path)) return read_bare_weights(path);
  if (sfs::is_regular_file(path, ec) && is_gguf_file(path)) return read_gguf(path);
  if (sfs::is_directory(path, ec) && is_hf_model_dir(path)) return read_hf_dir(path);
  Checkpoint c = read_ptft_checkpoint(path, with_training_state);
  convert_legacy_names(c);
  return c;
}

std::string export_formats_text(const ModelFamily& family) {
  std::string has;
  for (const auto& f : family.formats) has += f.name + " (" + f.summary + "), ";
  return has + "ptft (a plain ptft checkpoint)";
}

std::vector<std::string> export_formats(const ModelImpl& model) {
  std::vector<std::string> names;
  for (const auto& f : find_model_family(model.family(), "export").formats) names.push_back(f.name);
  return names;
}

std::vector<std::string> all_export_formats() {
  std::vector<std::string> names;
  for (const auto& family : model_families())
    for (const auto& f : family.formats)
      if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
  return names;
}

void export_model(ModelImpl& model, const Tokenizer* tok, const std::string& format, const std::string& out_dir,
                  const std::string& chat_template) {
  const ModelFamily& family = find_model_family(model.family(), "export");
  const ForeignFormat* f = find_format(family, format);
  if (!f)
    throw UserError("a '" + model.family() + "' model cannot be exported as '" + format + "'",
                    "a " + model.family() + " model exports as: " + export_formats_text(family));
  TensorMap out;
  for (const auto& [name, t] : to_foreign(f->names(model), export_state(model, tok, out_dir)))
    out[name] = t.to(torch::kCPU, t.is_floating_point() ? torch::kFloat32 : t.scalar_type()).contiguous();
  fs::write_dir_atomic(out_dir, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    save_tensors(tmp + "/model.safetensors", out, {{"format", "pt"}});  // transformers requires format pt
    f->write_files(model, tok, tmp);
    if (tok) write_export_tokenizer(*f, model, *tok, tmp, out_dir);
    if (!chat_template.empty()) add_chat_template(tmp + "/tokenizer_config.json", chat_template);
  });
}

}  // namespace ptft
