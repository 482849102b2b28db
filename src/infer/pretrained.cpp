#include "ptft/infer/pretrained.h"

#include <filesystem>
#include <tuple>

#include "ptft/core/error.h"
#include "ptft/models/causal_lm.h"
#include "ptft/models/gguf_model.h"
#include "ptft/models/model_files.h"
#include "ptft/nn/skip_init.h"
#include "ptft/tokenizer/hf_tokenizer.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {

namespace sfs = std::filesystem;

// The tokenizer directory of checkpoint `dir`: its tokenizer/ (ptft), its ptft_tokenizer/ (a
// SentencePiece tokenizer in an exported HF directory), or the directory itself when it holds
// Hugging Face GPT-2 tokenizer files. Empty when there is none.
std::string tokenizer_dir(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"/tokenizer", "/ptft_tokenizer"})
    if (sfs::is_directory(dir + sub, ec)) return dir + sub;
  if (sfs::is_regular_file(dir + "/vocab.json", ec) && sfs::is_regular_file(dir + "/merges.txt", ec)) return dir;
  return {};
}

// The tokenizer of the model at `path` and where it was found (null, "": none): tokenizer_dir(),
// a GGUF file's own, or any tokenizer files ptft reads beside the weights (tokenizer.json,
// vocab.txt, ...).
std::pair<TokenizerPtr, std::string> model_tokenizer(const std::string& path) {
  const std::string dir = tokenizer_dir(path);
  if (!dir.empty()) return {load_tokenizer(dir), dir};
  if (is_gguf_file(path)) return {read_gguf_tokenizer(path), path};
  if (TokenizerPtr t = find_tokenizer(path)) return {t, path};
  return {nullptr, ""};
}

// A Hugging Face model's own chat template (tokenizer_config.json, chat_template.jinja), or null.
// A directory that `ptft export --format hf` wrote for a SentencePiece tokenizer: ptft reads the
// tokenizer from ptft_tokenizer/, the template sits in the tokenizer_config.json written beside
// the tokenizer.json for Hugging Face.
std::shared_ptr<ChatTemplate> tokenizer_template(const Pretrained& p, const std::string& tok_dir) {
  if (auto t = ChatTemplate::of_tokenizer(*p.tokenizer, "the chat_template of " + p.dir + "'s tokenizer")) return t;
  std::error_code ec;
  if (tok_dir != p.dir + "/ptft_tokenizer" || !sfs::is_regular_file(p.dir + "/tokenizer.json", ec)) return nullptr;
  return ChatTemplate::of_tokenizer(*HfTokenizer::from_dir(p.dir), "the chat_template of " + p.dir + "/tokenizer_config.json");
}

}  // namespace

std::string resolve_checkpoint_dir(const std::string& path) {
  std::error_code ec;
  if (!sfs::exists(path, ec))
    throw UserError("model '" + path + "' does not exist",
                    "pass a checkpoint directory (runs/NAME/checkpoints/best), a run directory (runs/NAME) or a "
                    "Hugging Face model directory");
  if (is_model_path(path)) return path;
  for (const char* which : {"best", "last"}) {
    const std::string dir = path + "/checkpoints/" + which;
    if (is_checkpoint_dir(dir)) return dir;
  }
  throw UserError("'" + path + "' is neither a checkpoint directory (config.json + model.safetensors) nor a run "
                      "directory (checkpoints/best or checkpoints/last)",
                  "pass a checkpoint such as runs/NAME/checkpoints/best, or the run directory runs/NAME");
}

Pretrained load_pretrained(const std::string& path, const PretrainedOptions& opt) {
  Pretrained p;
  p.dir = resolve_checkpoint_dir(path);
  Checkpoint c = read_checkpoint(p.dir, /*with_training_state=*/false);
  p.config = c.config;
  {
    nn::SkipInit skip;  // a strict load overwrites every tensor next
    p.model = model_from_checkpoint(c);  // LoRA adapters re-attached
  }
  p.model->eval();
  if (!opt.language_model_for.empty() && dynamic_cast<CausalLm*>(p.model.get()) == nullptr)
    throw UserError(opt.language_model_for + " needs a causal language model; '" + p.dir + "' holds a " + p.model->family() +
                        " model, which does not write text",
                    "language models are the gpt and llama families (GPT-2, Llama, Qwen, Mistral, SmolLM); a " +
                        p.model->family() + " model is used with ptft predict, detect or eval");

  std::string tok_dir;
  try {
    std::tie(p.tokenizer, tok_dir) = model_tokenizer(p.dir);
  } catch (const UserError& e) {
    throw e.with_context("loading the tokenizer of '" + p.dir + "'");
  }
  if (p.tokenizer) {
    const int64_t model_vocab = p.model->vocab_size();
    if (model_vocab > 0 && p.tokenizer->vocab_size() > model_vocab)
      throw UserError("the tokenizer '" + tok_dir + "' has " + std::to_string(p.tokenizer->vocab_size()) +
                          " tokens, but the model in '" + p.dir + "/config.json' has vocab_size " +
                          std::to_string(model_vocab),
                      "the checkpoint's tokenizer/ belongs to another model: copy the tokenizer this model was "
                      "trained with (the shards' tokenizer/) into the checkpoint");
  } else if (opt.require_tokenizer) {
    throw UserError("checkpoint '" + p.dir + "' has no tokenizer (no tokenizer/ directory, no tokenizer.json, no vocab.json + merges.txt, no vocab.txt)",
                    "copy the tokenizer the model was trained with (the token shards' tokenizer/ directory) into '" +
                        p.dir + "/tokenizer'");
  }

  const auto& ptft_section = c.config.contains("ptft") ? c.config["ptft"] : nlohmann::json();
  if (ptft_section.is_object() && ptft_section.contains("chat_template") && !ptft_section["chat_template"].is_null())
    p.chat_template = ChatTemplate::from_json(ptft_section["chat_template"], p.dir + "/config.json ptft.chat_template");
  else if (p.tokenizer)
    if (auto t = tokenizer_template(p, tok_dir)) p.chat_template = *t;
  return p;
}

}  // namespace ptft
