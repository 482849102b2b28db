// Hugging Face GPT-2 directories (what GPT2LMHeadModel.save_pretrained writes):
//   config.json           GPT2Config: model_type "gpt2", vocab_size, n_positions, n_embd, ...
//   model.safetensors     weights; or model.safetensors.index.json + shards
//   vocab.json merges.txt tokenizer_config.json   (optional) the GPT-2 byte-level BPE
// ptft's names are HF's (GPT2Model files lack the "transformer." prefix). HF's Conv1D stores the
// projection weights attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj as (in, out), ptft's
// nn::Linear as (out, in). The head is tied to wte, so lm_head.weight is not written (as HF
// does); on reading it must equal wte. The causal-mask buffers attn.bias / attn.masked_bias of
// older files are skipped.
#include "family_formats.h"

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/gpt.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

namespace {

// The transformers release whose GPT2Config layout export writes (unchanged since 4.20).
constexpr const char* kTransformersVersion = "4.40.0";

// Options of GPT2Config that change the computation in ways ptft's GPT-2 does not implement.
void check_hf_options(const nlohmann::json& j, const std::string& path) {
  auto flag = [&](const char* key, bool unsupported_value, const std::string& why) {
    if (j.contains(key) && j[key].is_boolean() && j[key].get<bool>() == unsupported_value)
      throw UserError("'" + path + "': " + key + " = " + (unsupported_value ? "true" : "false") +
                          " is not supported: " + why,
                      "ptft implements standard GPT-2 (the defaults of GPT2Config)");
  };
  flag("reorder_and_upcast_attn", true, "ptft does not reorder/upcast the attention computation");
  flag("scale_attn_by_inverse_layer_idx", true, "ptft does not scale attention by 1/(layer+1)");
  flag("scale_attn_weights", false, "ptft always scales attention scores by 1/sqrt(head size)");
  flag("add_cross_attention", true, "ptft's GPT-2 has no cross-attention");
  flag("tie_word_embeddings", false, "ptft ties the output head to wte");
}

nlohmann::json read_config(const ForeignSource& src) {
  check_hf_options(src.config, src.config_path);
  GptConfig cfg;
  try {
    cfg = gpt_config_from_json(src.config, src.config_path);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + src.config_path + "': bad GPT-2 config: " + e.what(), "compare it with GPT2Config's keys");
  }
  nlohmann::json c = gpt_config_json(cfg);
  c["ptft"]["task"] = "causal_lm";
  return c;
}

NameMap names(const ModelImpl& model) {
  NameMap m;
  for (const char* conv1d : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"})
    m.rules.push_back({std::string("transformer.h.*.") + conv1d + ".weight", {}, /*transpose=*/true});
  for (const char* part : {"h", "wte", "wpe", "ln_f"})
    m.aliases.push_back({std::string(part) + ".**", std::string("transformer.") + part + ".**"});
  m.tied = {{"lm_head.weight", "transformer.wte.weight"}};
  m.ignored = {"transformer.h.*.attn.bias", "transformer.h.*.attn.masked_bias"};
  m.model = "GPT-2";
  m.architecture = "config.json";
  m.shape_source = "config.json says";
  m.shape_hint = "the weights were saved for another architecture, or config.json was edited";
  m.dtype_hint = "the weights file is not a GPT-2 model";
  m.missing_hint = "the weights file is incomplete or not a GPT2LMHeadModel/GPT2Model";
  m.unknown_hint = "is this a GPT2LMHeadModel directory? (config.json's n_layer is " +
                   std::to_string(model.num_blocks()) + ")";
  m.tied_hint = "ptft's GPT-2 ties the output head to the token embedding; an untied model cannot be loaded "
                "without changing its outputs";
  return m;
}

const GptConfig& gpt_config(const ModelImpl& model) {
  const auto* gpt = dynamic_cast<const GptImpl*>(&model);
  PTFT_CHECK(gpt != nullptr, "a family-gpt model that is not a GptImpl");
  return gpt->config();
}

// The eot token of an export: the tokenizer's, else GPT-2's own 50256 for GPT-2's vocabulary.
nlohmann::json eot_id_json(const Tokenizer* tok, const GptConfig& c) {
  if (tok) return tok->eot_id();
  if (c.vocab_size == 50257) return 50256;
  return nullptr;
}

void write_files(const ModelImpl& model, const Tokenizer* tok, const std::string& dir) {
  const GptConfig& c = gpt_config(model);
  nlohmann::json j = gpt_config_json(c);
  j.erase("ptft");
  const nlohmann::json eot = eot_id_json(tok, c);
  j["bos_token_id"] = eot;
  j["eos_token_id"] = eot;
  j["scale_attn_weights"] = true;
  j["scale_attn_by_inverse_layer_idx"] = false;
  j["reorder_and_upcast_attn"] = false;
  j["summary_type"] = "cls_index";  // GPT2DoubleHeadsModel's head; GPT2Config's defaults
  j["summary_use_proj"] = true;
  j["summary_activation"] = nullptr;
  j["summary_proj_to_labels"] = true;
  j["summary_first_dropout"] = 0.1;
  j["use_cache"] = true;
  j["torch_dtype"] = "float32";
  j["transformers_version"] = kTransformersVersion;
  fs::write_file_atomic(dir + "/config.json", j.dump(2) + "\n");
  nlohmann::json generation = {{"_from_model_config", true}, {"transformers_version", kTransformersVersion}};
  if (!eot.is_null()) {
    generation["bos_token_id"] = eot;
    generation["eos_token_id"] = eot;
  }
  fs::write_file_atomic(dir + "/generation_config.json", generation.dump(2) + "\n");
}

// vocab.json + merges.txt (Tokenizer::save) and HF's tokenizer_config.json in place of ptft's.
void write_tokenizer(const ModelImpl& model, const Tokenizer& tok, const std::string& dir) {
  tok.save(dir);
  const std::string eot = tok.id_to_token(tok.eot_id());
  nlohmann::json added = nlohmann::json::object();
  nlohmann::json extra = nlohmann::json::array();
  for (const auto& s : tok.special_tokens()) {
    if (s == eot) continue;
    added[s] = *tok.token_to_id(s);
    extra.push_back(s);
  }
  nlohmann::json config = {{"tokenizer_class", "GPT2Tokenizer"},
                           {"model_max_length", gpt_config(model).n_positions},
                           {"bos_token", eot},
                           {"eos_token", eot},
                           {"unk_token", eot},
                           {"add_prefix_space", false},
                           {"errors", "replace"}};
  if (!extra.empty()) {
    config["additional_special_tokens"] = extra;
    fs::write_file_atomic(dir + "/added_tokens.json", added.dump(2) + "\n");
  }
  fs::write_file_atomic(dir + "/tokenizer_config.json", config.dump(2) + "\n");
}

}  // namespace

ForeignFormat gpt2_hf_format() {
  ForeignFormat f;
  f.name = "hf";
  f.summary = "a Hugging Face GPT-2 directory";
  f.source_tag = "huggingface";
  f.hf_model_types = {"gpt2"};
  f.read_config = read_config;
  f.names = names;
  f.write_files = write_files;
  f.tokenizer_kind = "gpt2-bpe";
  f.tokenizer_class = "GPT2Tokenizer";
  f.write_tokenizer = write_tokenizer;
  return f;
}

}  // namespace ptft
