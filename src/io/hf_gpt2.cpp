#include "ptft/io/hf_gpt2.h"

#include <algorithm>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/log.h"
#include "ptft/io/hf_files.h"
#include "ptft/models/gpt.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

constexpr const char* kPrefix = "transformer.";
// The transformers release whose GPT2Config layout export writes (unchanged since 4.20).
constexpr const char* kTransformersVersion = "4.40.0";

// One tensor of an HF GPT-2 file: name without "transformer.", shape as HF stores it, and
// whether it is a Conv1D weight ((in, out) in the file, (out, in) in ptft).
struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;
  bool conv1d = false;
};

// Every tensor a GPT2LMHeadModel file holds for `c` (tied head and mask buffers aside).
std::vector<HfTensor> hf_tensors(const GptConfig& c) {
  const int64_t C = c.n_embd, I = c.inner();
  std::vector<HfTensor> t = {{"wte.weight", {c.vocab_size, C}}, {"wpe.weight", {c.n_positions, C}}};
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string h = "h." + std::to_string(i) + ".";
    auto add = [&](const std::string& module, int64_t in, int64_t out, bool conv1d) {
      if (conv1d) t.push_back({h + module + ".weight", {in, out}, true});
      else t.push_back({h + module + ".weight", {out}});
      t.push_back({h + module + ".bias", {out}});
    };
    add("ln_1", C, C, false);
    add("attn.c_attn", C, 3 * C, true);
    add("attn.c_proj", C, C, true);
    add("ln_2", C, C, false);
    add("mlp.c_fc", C, I, true);
    add("mlp.c_proj", I, C, true);
  }
  t.push_back({"ln_f.weight", {C}});
  t.push_back({"ln_f.bias", {C}});
  return t;
}

// The causal-mask buffers old HF files carry ("h.N.attn.bias", "h.N.attn.masked_bias").
bool is_mask_buffer(const std::string& name) {
  auto ends_with = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return name.rfind("h.", 0) == 0 && (ends_with(".attn.bias") || ends_with(".attn.masked_bias")) &&
         std::count(name.begin(), name.end(), '.') == 3;
}

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

// The eot token of an export: the tokenizer's, else GPT-2's own 50256 for GPT-2's vocabulary.
nlohmann::json eot_id_json(const Tokenizer* tok, const GptConfig& c) {
  if (tok) return tok->eot_id();
  if (c.vocab_size == 50257) return 50256;
  return nullptr;
}

nlohmann::json hf_config(const GptConfig& c, const Tokenizer* tok) {
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
  return j;
}

// vocab.json + merges.txt (Tokenizer::save) and HF's tokenizer_config.json in place of ptft's.
void write_hf_gpt2_tokenizer(const Tokenizer& tok, const GptConfig& c, const std::string& dir) {
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
                           {"model_max_length", c.n_positions},
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

Checkpoint read_hf_gpt2(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  const nlohmann::json hf = read_json_file(config_path, "Hugging Face model config");
  if (!hf.is_object() || !hf.contains("model_type") || !hf["model_type"].is_string())
    throw UserError("'" + config_path + "' has no \"model_type\"", "is this a Hugging Face model directory?");
  const std::string type = hf["model_type"].get<std::string>();
  if (type != "gpt2")
    throw UserError("'" + config_path + "': model_type \"" + type + "\" is not supported",
                    "ptft reads Hugging Face GPT-2 (model_type \"gpt2\") and BERT (\"bert\") directories and its own checkpoints");
  check_hf_options(hf, config_path);
  GptConfig cfg;
  try {
    cfg = gpt_config_from_json(hf, config_path);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + config_path + "': bad GPT-2 config: " + e.what(), "compare it with GPT2Config's keys");
  }

  // Tensors by name without "transformer.", with the file each came from.
  HfTensors loaded = load_hf_tensors(dir, kPrefix);
  TensorMap& raw = loaded.tensors;
  std::map<std::string, std::string>& file_of = loaded.file_of;

  Checkpoint c;
  c.dir = dir;
  std::vector<std::string> missing, bad_shape;
  for (const auto& want : hf_tensors(cfg)) {
    auto it = raw.find(want.name);
    if (it == raw.end()) {
      missing.push_back(want.name);
      continue;
    }
    const torch::Tensor& t = it->second;
    if (!t.sizes().equals(want.shape)) {
      bad_shape.push_back("'" + want.name + "' is " + c10::str(t.sizes()) + ", config.json says " +
                          c10::str(c10::IntArrayRef(want.shape)) + (want.conv1d ? " (Conv1D: in, out)" : ""));
    } else if (!t.is_floating_point()) {
      throw UserError("'" + file_of[want.name] + "': tensor '" + want.name + "' has dtype " +
                          std::string(c10::toString(t.scalar_type())) + ", expected a floating-point type",
                      "the weights file is not a GPT-2 model");
    } else {
      torch::Tensor w = t.to(torch::kFloat32);
      c.model[kPrefix + want.name] = want.conv1d ? w.t().contiguous() : w;  // (in, out) -> (out, in)
    }
    raw.erase(it);
  }
  check_hf_tensors(dir, bad_shape, missing, "the weights file is incomplete or not a GPT2LMHeadModel/GPT2Model");

  // What is left: the tied head, mask buffers to skip, and anything unknown.
  std::vector<std::string> unknown;
  for (const auto& [name, t] : raw) {
    if (is_mask_buffer(name)) continue;
    if (name == "lm_head.weight") {
      const torch::Tensor& wte = c.model.at(std::string(kPrefix) + "wte.weight");
      if (!t.sizes().equals(wte.sizes()) || !torch::equal(t.to(torch::kFloat32), wte))
        throw UserError("'" + file_of[name] + "': lm_head.weight differs from transformer.wte.weight",
                        "ptft's GPT-2 ties the output head to the token embedding; an untied model cannot be "
                        "loaded without changing its outputs");
      continue;
    }
    unknown.push_back(name);
  }
  if (!unknown.empty())
    throw UserError("'" + dir + "' holds tensor(s) that GPT-2 does not have: " + join_first(unknown),
                    "is this a GPT2LMHeadModel directory? (config.json's n_layer is " +
                        std::to_string(cfg.n_layer) + ")");

  c.config = gpt_config_json(cfg);
  c.config["ptft"]["task"] = "causal_lm";
  c.config["ptft"]["source"] = "huggingface:" + dir;
  return c;
}

void export_hf_gpt2(ModelImpl& model, const Tokenizer* tok, const std::string& out_dir) {
  if (model.family() != "gpt")
    throw UserError("cannot export a '" + model.family() + "' model as Hugging Face GPT-2",
                    "--format hf supports GPT models (family gpt)");
  auto* gpt = dynamic_cast<GptImpl*>(&model);
  PTFT_CHECK(gpt != nullptr, "a family-gpt model that is not a GptImpl");
  const GptConfig& cfg = gpt->config();
  const TensorMap sd = hf_export_state(model, tok, cfg.vocab_size, out_dir);

  TensorMap out;
  for (const auto& want : hf_tensors(cfg)) {
    const std::string name = kPrefix + want.name;
    auto it = sd.find(name);
    PTFT_CHECK(it != sd.end(), "GPT model has no parameter " + name);
    torch::Tensor w = it->second.detach().to(torch::kCPU, torch::kFloat32);
    out[name] = want.conv1d ? w.t().contiguous() : w;  // (out, in) -> Conv1D's (in, out)
  }
  PTFT_CHECK(out.size() == sd.size(), "GPT model has tensors that the HF layout does not name");

  fs::write_dir_atomic(out_dir, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    const nlohmann::json config = hf_config(cfg, tok);
    fs::write_file_atomic(tmp + "/config.json", config.dump(2) + "\n");
    nlohmann::json generation = {{"_from_model_config", true}, {"transformers_version", kTransformersVersion}};
    if (!config["eos_token_id"].is_null()) {
      generation["bos_token_id"] = config["bos_token_id"];
      generation["eos_token_id"] = config["eos_token_id"];
    }
    fs::write_file_atomic(tmp + "/generation_config.json", generation.dump(2) + "\n");
    save_tensors(tmp + "/model.safetensors", out, {{"format", "pt"}});  // HF requires format pt
    if (!tok) return;
    if (tok->kind() == "gpt2-bpe") {
      write_hf_gpt2_tokenizer(*tok, cfg, tmp);
    } else {
      tok->save(tmp + "/ptft_tokenizer");
      log_info("note: the " + tok->kind() + " tokenizer cannot be read by Hugging Face's GPT2Tokenizer; it is saved "
               "in ptft's form in " + out_dir + "/ptft_tokenizer/ (ptft tokenizer encode --tokenizer reads it)");
    }
  });
}

}  // namespace ptft
