// Hugging Face Llama-family directories (what LlamaForCausalLM / Qwen2ForCausalLM /
// Qwen3ForCausalLM / MistralForCausalLM.save_pretrained write):
//   config.json            model_type llama | qwen2 | qwen3 | mistral (src/models/llama_config.cpp)
//   model.safetensors      weights in any float dtype; or model.safetensors.index.json + shards
//   tokenizer.json tokenizer_config.json (chat_template)   the tokenizer, HF's tokenizers format
// ptft's parameter names are HF's. A tied model's file may carry lm_head.weight too (it must
// equal embed_tokens); LlamaModel files (no head) lack the "model." prefix; the rotary inv_freq
// buffers of older files are skipped (ptft computes them from rope_theta / rope_scaling).
#include "family_formats.h"

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/llama.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

namespace {

const LlamaConfig& llama_config(const ModelImpl& model) {
  const auto* llama = dynamic_cast<const LlamaImpl*>(&model);
  PTFT_CHECK(llama != nullptr, "a family-llama model that is not a LlamaImpl");
  return llama->config();
}

nlohmann::json read_config(const ForeignSource& src) {
  LlamaConfig cfg;
  try {
    cfg = llama_config_from_json(src.config, src.config_path);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + src.config_path + "' is not a valid config of a Hugging Face " +
                        src.config.value("model_type", std::string("llama")) + " directory: " + e.what(),
                    "compare it with the model's config class in transformers");
  }
  nlohmann::json c = llama_config_json(cfg);
  c["ptft"]["task"] = "causal_lm";
  return c;
}

NameMap names(const ModelImpl& model) {
  NameMap m;
  for (const char* part : {"layers", "embed_tokens", "norm"})
    m.aliases.push_back({std::string(part) + ".**", std::string("model.") + part + ".**"});
  if (llama_config(model).tie_word_embeddings) m.tied = {{"lm_head.weight", "model.embed_tokens.weight"}};
  m.ignored = {"model.layers.*.self_attn.rotary_emb.inv_freq"};
  const std::string type = llama_config(model).model_type;
  m.model = "the " + type + " model";
  m.architecture = "config.json";
  m.shape_source = "config.json says";
  m.shape_hint = "the weights were saved for another architecture, or config.json was edited";
  m.dtype_hint = "the weights file is not a " + type + " model";
  m.missing_hint = "the weights file is incomplete (a shard missing from model.safetensors.index.json?) or not a " +
                   type + " causal LM";
  m.unknown_hint = "is this a " + type + " causal LM directory? (config.json's num_hidden_layers is " +
                   std::to_string(model.num_blocks()) + ")";
  m.tied_hint = "config.json says tie_word_embeddings true but lm_head.weight differs from model.embed_tokens.weight; "
                "set tie_word_embeddings to false";
  return m;
}

// The id of the first of `candidates` the tokenizer has, else null.
nlohmann::json id_of_any(const Tokenizer* tok, std::initializer_list<const char*> candidates) {
  if (!tok) return nullptr;
  for (const char* c : candidates)
    if (auto id = tok->token_to_id(c)) return *id;
  return nullptr;
}

void write_files(const ModelImpl& model, const Tokenizer* tok, const std::string& dir) {
  nlohmann::json j = llama_config_json(llama_config(model));
  j.erase("ptft");
  const nlohmann::json bos = id_of_any(tok, {"<|begin_of_text|>", "<s>"});
  const nlohmann::json eos = tok ? nlohmann::json(tok->eot_id()) : nlohmann::json(nullptr);
  j["bos_token_id"] = bos;
  j["eos_token_id"] = eos;
  j["torch_dtype"] = "float32";
  fs::write_file_atomic(dir + "/config.json", j.dump(2) + "\n");
  nlohmann::json generation = {{"_from_model_config", true}, {"transformers_version", j["transformers_version"]}};
  if (!bos.is_null()) generation["bos_token_id"] = bos;
  if (!eos.is_null()) generation["eos_token_id"] = eos;
  fs::write_file_atomic(dir + "/generation_config.json", generation.dump(2) + "\n");
}

// tokenizer.json + tokenizer_config.json (with its chat template) as they were read.
void write_tokenizer(const ModelImpl&, const Tokenizer& tok, const std::string& dir) { tok.save(dir); }

}  // namespace

ForeignFormat llama_hf_format() {
  ForeignFormat f;
  f.name = "hf";
  f.summary = "a Hugging Face Llama / Qwen2 / Qwen3 / Mistral directory";
  f.source_tag = "huggingface";
  f.hf_model_types = {"llama", "qwen2", "qwen3", "mistral"};
  f.read_config = read_config;
  f.names = names;
  f.write_files = write_files;
  f.tokenizer_kind = "tokenizer-json";
  f.tokenizer_class = "PreTrainedTokenizerFast";
  f.write_tokenizer = write_tokenizer;
  return f;
}

}  // namespace ptft
