#include "ptft/io/hf_bert.h"

#include <algorithm>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/log.h"
#include "ptft/io/hf_files.h"
#include "ptft/models/bert.h"
#include "ptft/models/class_names.h"
#include "ptft/tokenizer/wordpiece.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

constexpr const char* kTransformersVersion = "4.40.0";  // the BertConfig layout export writes

// One ptft tensor and the HF tensor(s) it is made of (without "bert."); several parts are
// concatenated along dim 0 (q|k|v).
struct NamePair {
  std::string ptft;
  std::vector<std::string> hf;
};

// Every tensor of a ptft BERT for `c`, with its HF name: ptft's names are HF's (the trunk under
// "bert.", which HF's names here go without).
std::vector<NamePair> name_pairs(const BertConfig& c) {
  std::vector<NamePair> v;
  auto both = [&](const std::string& hf) {
    const std::string ptft = hf.rfind("cls.", 0) == 0 || hf == "classifier" ? hf : "bert." + hf;
    for (const char* s : {".weight", ".bias"}) v.push_back({ptft + s, {hf + s}});
  };
  for (const char* e : {"word_embeddings", "position_embeddings", "token_type_embeddings"})
    v.push_back({std::string("bert.embeddings.") + e + ".weight", {std::string("embeddings.") + e + ".weight"}});
  both("embeddings.LayerNorm");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string h = "encoder.layer." + std::to_string(i) + ".";
    for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                          "output.dense", "output.LayerNorm"})
      both(h + m);
  }
  both("pooler.dense");
  if (c.num_classes > 0) {
    both("classifier");
  } else {
    both("cls.predictions.transform.dense");
    both("cls.predictions.transform.LayerNorm");
    v.push_back({"cls.predictions.bias", {"cls.predictions.bias"}});
  }
  return v;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// TF-converted checkpoints call LayerNorm's weight and bias gamma and beta.
std::string modern_name(const std::string& name) {
  if (name.find("LayerNorm.") == std::string::npos) return name;
  if (ends_with(name, ".gamma")) return name.substr(0, name.size() - 6) + ".weight";
  if (ends_with(name, ".beta")) return name.substr(0, name.size() - 5) + ".bias";
  return name;
}

bool is_skipped(const std::string& name) {
  return name == "embeddings.position_ids" || name.rfind("cls.seq_relationship.", 0) == 0;
}

// Parts of an optional head: missing in some files, then freshly initialised.
bool is_optional(const std::string& hf_name) {
  return hf_name.rfind("pooler.", 0) == 0 || hf_name.rfind("cls.predictions.", 0) == 0;
}

}  // namespace

Checkpoint read_hf_bert(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  const nlohmann::json hf = read_json_file(config_path, "Hugging Face model config");
  if (hf.value("model_type", std::string()) != "bert")
    throw UserError("'" + config_path + "' is not a BERT config (model_type " + hf.value("model_type", nlohmann::json()).dump() + ")");
  if (hf.value("is_decoder", false) || hf.value("add_cross_attention", false))
    throw UserError("'" + config_path + "': is_decoder / add_cross_attention BERT variants are not supported",
                    "ptft reads the bidirectional BERT encoder");
  const BertConfig cfg = bert_config_from_json(hf, config_path);

  HfTensors loaded = load_hf_tensors(dir, "bert.");
  TensorMap raw;
  std::map<std::string, std::string> file_of;
  for (auto& [name, t] : loaded.tensors) {
    const std::string m = modern_name(name);
    if (raw.count(m))
      throw UserError("'" + loaded.file_of[name] + "': tensor '" + name + "' appears twice (also as '" + m + "')",
                      "a file has LayerNorm.gamma/beta or LayerNorm.weight/bias, not both");
    raw[m] = t;
    file_of[m] = loaded.file_of[name];
  }
  // The two tied MLM biases are one parameter; a file may keep either (transformers drops the
  // decoder's when it saves).
  if (!raw.count("cls.predictions.bias") && raw.count("cls.predictions.decoder.bias")) {
    raw["cls.predictions.bias"] = raw.at("cls.predictions.decoder.bias");
    file_of["cls.predictions.bias"] = file_of["cls.predictions.decoder.bias"];
  }

  Checkpoint c;
  c.dir = dir;
  std::vector<std::string> missing, bad_shape, fresh;
  BertImpl init(cfg);  // the initial values of heads the file lacks
  const TensorMap init_sd = state_dict(init);
  for (const auto& pair : name_pairs(cfg)) {
    const torch::Tensor& want = init_sd.at(pair.ptft);
    std::vector<int64_t> part_shape = want.sizes().vec();  // each of q, k, v: (C,C) of c_attn's (3C,C)
    part_shape[0] /= static_cast<int64_t>(pair.hf.size());
    auto absent = std::find_if(pair.hf.begin(), pair.hf.end(), [&](const std::string& h) { return !raw.count(h); });
    if (absent != pair.hf.end()) {
      if (is_optional(pair.hf[0])) {  // a head the file lacks (never a fused part)
        c.model[pair.ptft] = want.clone();
        fresh.push_back(pair.hf[0]);
      } else {
        missing.push_back(*absent);
      }
      for (const auto& h : pair.hf) raw.erase(h);
      continue;
    }
    std::vector<torch::Tensor> parts;
    for (const auto& h : pair.hf) {
      const torch::Tensor t = raw.at(h);
      raw.erase(h);
      if (!t.sizes().equals(part_shape)) {
        bad_shape.push_back("'" + h + "' is " + c10::str(t.sizes()) + ", config.json says " +
                            c10::str(c10::IntArrayRef(part_shape)));
      } else if (!t.is_floating_point()) {
        throw UserError("'" + file_of[h] + "': tensor '" + h + "' has dtype " +
                            std::string(c10::toString(t.scalar_type())) + ", expected a floating-point type",
                        "the weights file is not a BERT model");
      } else {
        parts.push_back(t.to(torch::kFloat32));
      }
    }
    if (parts.size() != pair.hf.size()) continue;  // a shape is wrong: reported below
    c.model[pair.ptft] = (parts.size() == 1 ? parts[0] : torch::cat(parts, 0)).contiguous();
  }
  check_hf_tensors(dir, bad_shape, missing,
                   cfg.num_classes > 0 ? "a BertForSequenceClassification file needs the encoder and classifier.*"
                                       : "the weights file is incomplete or not a BERT model");

  // Left: the tied decoder (must equal what it is tied to), skipped buffers/heads, unknowns.
  std::vector<std::string> unknown;
  for (const auto& [name, t] : raw) {
    if (is_skipped(name)) continue;
    // HF name of the tied decoder tensor -> {ptft name, HF name} of the one it is tied to.
    static const std::map<std::string, std::pair<std::string, std::string>> kTied = {
        {"cls.predictions.decoder.weight", {"bert.embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight"}},
        {"cls.predictions.decoder.bias", {"cls.predictions.bias", "cls.predictions.bias"}},
    };
    auto tied = kTied.find(name);
    if (tied != kTied.end() && cfg.num_classes == 0) {
      const torch::Tensor& to = c.model.at(tied->second.first);
      if (!t.sizes().equals(to.sizes()) || !torch::equal(t.to(torch::kFloat32), to))
        throw UserError("'" + file_of[name] + "': " + name + " differs from " + tied->second.second,
                        "ptft's BERT ties the MLM decoder to the word embeddings (and its bias to "
                        "cls.predictions.bias); an untied model cannot be loaded without changing its outputs");
      continue;
    }
    if (name.rfind("cls.predictions.", 0) == 0) continue;  // a classifier file's stray MLM head
    unknown.push_back(name);
  }
  if (!unknown.empty())
    throw UserError("'" + dir + "' holds tensor(s) that BERT does not have: " + join_first(unknown),
                    "is this a BertModel / BertForMaskedLM / BertForSequenceClassification directory? (config.json's "
                    "num_hidden_layers is " + std::to_string(cfg.num_hidden_layers) + ")");
  if (!fresh.empty())
    log_info("note: '" + dir + "' has no " + join_first(fresh) + " (" + std::to_string(fresh.size()) +
             " tensors): freshly initialised");

  c.config = bert_config_json(cfg, cfg.num_classes > 0 ? class_names_from_json(hf, cfg.num_classes, config_path)
                                                      : std::vector<std::string>{});
  c.config["ptft"]["task"] = cfg.num_classes > 0 ? "classification" : "masked_lm";
  c.config["ptft"]["source"] = "huggingface:" + dir;
  return c;
}

void export_hf_bert(ModelImpl& model, const Tokenizer* tok, const std::string& out_dir) {
  auto* bert = dynamic_cast<BertImpl*>(&model);
  if (!bert)
    throw UserError("cannot export a '" + model.family() + "' model as Hugging Face BERT",
                    "--format hf writes GPT (gpt) and BERT (bert) models");
  const BertConfig& cfg = bert->config();
  const TensorMap sd = hf_export_state(model, tok, cfg.vocab_size, out_dir);

  TensorMap out;
  size_t used = 0;
  for (const auto& pair : name_pairs(cfg)) {
    auto it = sd.find(pair.ptft);
    PTFT_CHECK(it != sd.end(), "BERT model has no parameter " + pair.ptft);
    ++used;
    torch::Tensor w = it->second.detach().to(torch::kCPU, torch::kFloat32);
    auto parts = w.chunk(static_cast<int64_t>(pair.hf.size()), 0);  // c_attn (3C,..) -> q, k, v
    for (size_t i = 0; i < pair.hf.size(); ++i) out["bert." + pair.hf[i]] = parts[i].contiguous();
  }
  PTFT_CHECK(used == sd.size(), "BERT model has tensors that the HF layout does not name");
  // HF names the heads without the trunk prefix.
  TensorMap renamed;
  for (auto& [name, t] : out) {
    const std::string bare = name.substr(5);
    renamed[bare.rfind("cls.", 0) == 0 || bare.rfind("classifier.", 0) == 0 ? bare : name] = t;
  }

  fs::write_dir_atomic(out_dir, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    nlohmann::json config = bert->config_json();
    config.erase("ptft");
    config["torch_dtype"] = "float32";
    config["transformers_version"] = kTransformersVersion;
    config["use_cache"] = true;
    fs::write_file_atomic(tmp + "/config.json", config.dump(2) + "\n");
    save_tensors(tmp + "/model.safetensors", renamed, {{"format", "pt"}});
    if (!tok) return;
    const auto* wp = dynamic_cast<const WordPiece*>(tok);
    if (!wp) {
      tok->save(tmp + "/ptft_tokenizer");
      log_info("note: the " + tok->kind() + " tokenizer cannot be read by Hugging Face's BertTokenizer; it is saved "
               "in ptft's form in " + out_dir + "/ptft_tokenizer/ (ptft tokenizer encode --tokenizer reads it)");
      return;
    }
    wp->save(tmp);  // vocab.txt (+ ptft's tokenizer_config.json, replaced by HF's below)
    const WordPieceOptions& o = wp->options();
    nlohmann::json tc = {{"tokenizer_class", "BertTokenizer"},
                         {"do_lower_case", o.do_lower_case},
                         {"strip_accents", o.strip_accents ? nlohmann::json(*o.strip_accents) : nlohmann::json(nullptr)},
                         {"tokenize_chinese_chars", o.tokenize_chinese_chars},
                         {"model_max_length", cfg.max_position_embeddings},
                         {"unk_token", "[UNK]"},
                         {"sep_token", "[SEP]"},
                         {"pad_token", "[PAD]"},
                         {"cls_token", "[CLS]"},
                         {"mask_token", "[MASK]"}};
    fs::write_file_atomic(tmp + "/tokenizer_config.json", tc.dump(2) + "\n");
    nlohmann::json sm = {{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                         {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
    fs::write_file_atomic(tmp + "/special_tokens_map.json", sm.dump(2) + "\n");
  });
}

}  // namespace ptft
