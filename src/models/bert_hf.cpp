// Hugging Face BERT directories (what BertForMaskedLM / BertForSequenceClassification / BertModel
// .save_pretrained write, or bert-base-uncased's BertForPreTraining):
//   config.json         BertConfig: model_type "bert", hidden_size, num_hidden_layers, ...
//   model.safetensors   weights; or model.safetensors.index.json + shards
//   vocab.txt [tokenizer_config.json]   (optional) the WordPiece vocabulary
// ptft's names are HF's. The "bert." prefix is optional (BertModel files have none);
// TF-converted LayerNorm.gamma/beta read as weight/bias. Skipped: embeddings.position_ids, the
// NSP head cls.seq_relationship.*, and cls.predictions.decoder.weight/bias, which must equal the
// word embeddings / cls.predictions.bias (tied; a file with only the decoder's bias gives it as
// cls.predictions.bias). A file without the pooler (BertForMaskedLM) or the MLM head (BertModel)
// gets them freshly initialised, as transformers does; a note on stderr lists them.
#include "family_formats.h"

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/bert.h"
#include "ptft/models/class_names.h"
#include "ptft/tokenizer/wordpiece.h"

namespace ptft {

namespace {

constexpr const char* kTransformersVersion = "4.40.0";  // the BertConfig layout export writes

const BertImpl& bert_of(const ModelImpl& model) {
  const auto* bert = dynamic_cast<const BertImpl*>(&model);
  PTFT_CHECK(bert != nullptr, "a family-bert model that is not a BertImpl");
  return *bert;
}

nlohmann::json read_config(const ForeignSource& src) {
  const nlohmann::json& hf = src.config;
  if (hf.value("is_decoder", false) || hf.value("add_cross_attention", false))
    throw UserError("'" + src.config_path + "': is_decoder / add_cross_attention BERT variants are not supported",
                    "ptft reads the bidirectional BERT encoder");
  const BertConfig cfg = bert_config_from_json(hf, src.config_path);
  const bool classifier = cfg.num_classes > 0;
  nlohmann::json c = bert_config_json(
      cfg, classifier ? class_names_from_json(hf, cfg.num_classes, src.config_path) : std::vector<std::string>{});
  c["ptft"]["task"] = classifier ? "classification" : "masked_lm";
  return c;
}

NameMap names(const ModelImpl& model) {
  const BertImpl& bert = bert_of(model);
  NameMap m;
  m.rules = {{"bert.pooler.**", {}, false, Presence::kOptional}, {"cls.predictions.**", {}, false, Presence::kOptional}};
  for (const char* part : {"embeddings", "encoder", "pooler"})
    m.aliases.push_back({std::string(part) + ".**", std::string("bert.") + part + ".**"});
  m.aliases.push_back({"**.LayerNorm.gamma", "**.LayerNorm.weight"});
  m.aliases.push_back({"**.LayerNorm.beta", "**.LayerNorm.bias"});
  m.ignored = {"bert.embeddings.position_ids", "cls.seq_relationship.**"};
  if (bert.is_classifier())
    m.ignored.push_back("cls.predictions.**");  // a classifier file's stray MLM head
  else
    m.tied = {{"cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"},
              {"cls.predictions.decoder.bias", "cls.predictions.bias", /*stands_in=*/true}};
  m.model = "BERT";
  m.architecture = "config.json";
  m.shape_source = "config.json says";
  m.shape_hint = "the weights were saved for another architecture, or config.json was edited";
  m.dtype_hint = "the weights file is not a BERT model";
  m.missing_hint = bert.is_classifier() ? "a BertForSequenceClassification file needs the encoder and classifier.*"
                                        : "the weights file is incomplete or not a BERT model";
  m.unknown_hint = "is this a BertModel / BertForMaskedLM / BertForSequenceClassification directory? (config.json's "
                   "num_hidden_layers is " + std::to_string(bert.config().num_hidden_layers) + ")";
  m.tied_hint = "ptft's BERT ties the MLM decoder to the word embeddings (and its bias to cls.predictions.bias); an "
                "untied model cannot be loaded without changing its outputs";
  return m;
}

void write_files(const ModelImpl& model, const Tokenizer* /*tok*/, const std::string& dir) {
  nlohmann::json config = model.config_json();
  config.erase("ptft");
  config["torch_dtype"] = "float32";
  config["transformers_version"] = kTransformersVersion;
  config["use_cache"] = true;
  fs::write_file_atomic(dir + "/config.json", config.dump(2) + "\n");
}

// vocab.txt, and HF's tokenizer_config.json / special_tokens_map.json in place of ptft's.
void write_tokenizer(const ModelImpl& model, const Tokenizer& tok, const std::string& dir) {
  const auto& wp = dynamic_cast<const WordPiece&>(tok);
  wp.save(dir);
  const WordPieceOptions& o = wp.options();
  nlohmann::json tc = {{"tokenizer_class", "BertTokenizer"},
                       {"do_lower_case", o.do_lower_case},
                       {"strip_accents", o.strip_accents ? nlohmann::json(*o.strip_accents) : nlohmann::json(nullptr)},
                       {"tokenize_chinese_chars", o.tokenize_chinese_chars},
                       {"model_max_length", bert_of(model).config().max_position_embeddings},
                       {"unk_token", "[UNK]"},
                       {"sep_token", "[SEP]"},
                       {"pad_token", "[PAD]"},
                       {"cls_token", "[CLS]"},
                       {"mask_token", "[MASK]"}};
  fs::write_file_atomic(dir + "/tokenizer_config.json", tc.dump(2) + "\n");
  nlohmann::json sm = {{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                       {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
  fs::write_file_atomic(dir + "/special_tokens_map.json", sm.dump(2) + "\n");
}

}  // namespace

ForeignFormat bert_hf_format() {
  ForeignFormat f;
  f.name = "hf";
  f.summary = "a Hugging Face BERT directory";
  f.source_tag = "huggingface";
  f.hf_model_types = {"bert"};
  f.read_config = read_config;
  f.names = names;
  f.write_files = write_files;
  f.tokenizer_kind = "wordpiece";
  f.tokenizer_class = "BertTokenizer";
  f.write_tokenizer = write_tokenizer;
  return f;
}

LegacyNames bert_legacy_names() {
  LegacyNames l;
  l.marker = "bert.encoder.layer.*.attn.c_attn.weight";
  l.until = "ptft before December 2026 (GPT-style block names)";
  const std::string p = "bert.encoder.layer.*.";
  const char* qkv[] = {"query", "key", "value"};
  for (int i = 0; i < 3; ++i) {
    NameRule r{p + "attention.self." + qkv[i] + ".**", {p + "attn.c_attn.**"}};
    r.part = {i, 3};  // the fused (3C, C) c_attn held q|k|v
    l.names.rules.push_back(r);
  }
  const std::pair<const char*, const char*> renamed[] = {{"attention.output.dense.**", "attn.c_proj.**"},
                                                         {"attention.output.LayerNorm.**", "ln_1.**"},
                                                         {"intermediate.dense.**", "mlp.c_fc.**"},
                                                         {"output.dense.**", "mlp.c_proj.**"},
                                                         {"output.LayerNorm.**", "ln_2.**"}};
  for (const auto& [now, before] : renamed) l.names.rules.push_back({p + now, {p + before}});
  l.names.rules.push_back({"cls.predictions.transform.**", {"cls.**"}});
  l.names.rules.push_back({"cls.predictions.bias", {"cls.bias"}});
  l.names.model = "BERT";
  l.names.unknown_hint = "LoRA checkpoints of that ptft cannot be converted: merge them with it (ptft export "
                         "--merge-lora --format ptft) first";
  return l;
}

}  // namespace ptft
