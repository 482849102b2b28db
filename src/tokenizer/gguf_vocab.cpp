#include "ptft/tokenizer/gguf_vocab.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/temp_dir.h"
#include "gguf_pre_tokenizers.h"

namespace ptft {
namespace {

using nlohmann::json;

// The tokenizer's own files (Tokenizer::save), in a temporary directory removed afterwards:
// what every kind of tokenizer can give, and what the GGUF keys are made from.
class SavedFiles {
 public:
  explicit SavedFiles(const Tokenizer& tok) : tmp_("ptft-gguf-vocab") { tok.save(tmp_.path()); }
  std::string read(const std::string& name) const { return fs::read_file(tmp_.path() + "/" + name, "tokenizer file"); }
  json read_json(const std::string& name) const { return json::parse(read(name)); }

 private:
  TempDir tmp_;
};

bool is_byte_piece(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t.back() == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
         std::isxdigit(static_cast<unsigned char>(t[4]));
}

// Tokens by id from a token -> id map; holes become "[PAD<id>]" (unused).
void place(GgufVocab& v, const std::string& token, int64_t id, GgufTokenType type) {
  if (id < 0) throw UserError("the tokenizer has token '" + token + "' with id " + std::to_string(id), "fix the tokenizer files");
  if (static_cast<size_t>(id) >= v.tokens.size()) {
    v.tokens.resize(id + 1);
    v.token_types.resize(id + 1, static_cast<int32_t>(GgufTokenType::kUnused));
  }
  v.tokens[id] = token;
  v.token_types[id] = static_cast<int32_t>(type);
}

GgufVocab from_gpt2_bpe(const Tokenizer& tok, const SavedFiles& f) {
  GgufVocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  const json vocab = f.read_json("vocab.json");
  const auto specials = tok.special_tokens();
  for (const auto& [token, id] : vocab.items()) {
    const bool special = std::find(specials.begin(), specials.end(), token) != specials.end();
    place(v, token, id.get<int64_t>(), special ? GgufTokenType::kControl : GgufTokenType::kNormal);
  }
  std::istringstream merges(f.read("merges.txt"));
  for (std::string line; std::getline(merges, line);)
    if (!line.empty() && line.rfind("#version", 0) != 0) v.merges.push_back(line);
  return v;
}

// tokenizer.ggml.pre of a byte-level BPE tokenizer.json: which of llama.cpp's pre-tokenizers
// cuts text as its pre_tokenizer does.
std::string byte_level_pre(const json& pre, const std::string& where) {
  auto is_byte_level = [](const json& p, bool regex) {
    return p.value("type", "") == "ByteLevel" && p.value("use_regex", true) == regex;
  };
  if (pre.is_object() && is_byte_level(pre, true)) return "gpt-2";
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers")) {
    const json& s = pre["pretokenizers"];
    if (s.size() == 2 && s[0].value("type", "") == "Split" && is_byte_level(s[1], false)) {
      const std::string regex = s[0].contains("pattern") ? s[0]["pattern"].value("Regex", "") : "";
      if (regex == gguf_pre::kLlama3Split) return "llama-bpe";
      if (regex == gguf_pre::kQwen2Split) return "qwen2";
    }
    if (s.size() == 2 && s[0].value("type", "") == "Digits" && s[0].value("individual_digits", false) &&
        is_byte_level(s[1], true))
      return "smollm";
  }
  throw UserError(where + ": pre_tokenizer " + pre.dump().substr(0, 300) +
                      " is none of those llama.cpp knows (Llama-3's, Qwen2's, SmolLM's, GPT-2's)",
                  "llama.cpp would cut the text differently; export --format hf instead");
}

bool is_sentencepiece_style(const json& t) {
  const json& m = t["model"];
  return m.value("byte_fallback", false) || t["normalizer"].dump().find("\u2581") != std::string::npos ||
         t["pre_tokenizer"].dump().find("Metaspace") != std::string::npos;
}

// llama.cpp's SPM tokenizer merges the adjacent pair whose concatenation scores best: scoring each
// token by minus the rank of the merge that makes it gives the merge order of the BPE model.
void score_by_merge_rank(GgufVocab& v, const std::map<std::string, int64_t>& ids) {
  v.scores.assign(v.tokens.size(), 0.0f);
  std::vector<bool> made(v.tokens.size(), false);
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const std::string& m = v.merges[r];
    const size_t sp = m.find(' ');
    auto it = ids.find(m.substr(0, sp) + m.substr(sp + 1));
    if (it == ids.end() || made[it->second]) continue;
    made[it->second] = true;
    v.scores[it->second] = -static_cast<float>(r + 1);
  }
  v.merges.clear();
}

GgufVocab from_tokenizer_json(const SavedFiles& f) {
  const std::string where = "tokenizer.json";
  const json t = f.read_json("tokenizer.json");
  const json& m = t["model"];
  if (m.value("type", "") != "BPE")
    throw UserError(where + ": model type '" + m.value("type", "") + "' cannot be written for llama.cpp",
                    "only BPE tokenizers are exported to GGUF; export --format hf instead");
  const bool spm = is_sentencepiece_style(t);
  GgufVocab v;
  v.model = spm ? "llama" : "gpt2";
  v.pre = spm ? "default" : byte_level_pre(t["pre_tokenizer"], where);
  std::map<std::string, int64_t> ids;
  const std::string unk = m.value("unk_token", json()).is_string() ? m["unk_token"].get<std::string>() : "";
  for (const auto& [token, id] : m["vocab"].items()) {
    GgufTokenType type = GgufTokenType::kNormal;
    if (token == unk) type = GgufTokenType::kUnknown;
    else if (spm && is_byte_piece(token)) type = GgufTokenType::kByte;
    place(v, token, id.get<int64_t>(), type);
    ids[token] = id.get<int64_t>();
  }
  for (const auto& a : t.value("added_tokens", json::array())) {
    const std::string token = a.at("content").get<std::string>();
    GgufTokenType type = a.value("special", false) ? GgufTokenType::kControl : GgufTokenType::kUserDefined;
    if (token == unk) type = GgufTokenType::kUnknown;
    place(v, token, a.at("id").get<int64_t>(), type);
  }
  for (const auto& mg : m.value("merges", json::array()))
    v.merges.push_back(mg.is_string() ? mg.get<std::string>() : mg.at(0).get<std::string>() + " " + mg.at(1).get<std::string>());
  if (spm) {
    score_by_merge_rank(v, ids);
    v.add_space_prefix = t["normalizer"].dump().find("Prepend") != std::string::npos ||
                         t["pre_tokenizer"].dump().find("\"prepend_scheme\":\"always\"") != std::string::npos;
    if (!unk.empty() && ids.count(unk)) v.unk = static_cast<int32_t>(ids[unk]);
  }
  return v;
}

GgufVocab from_sentencepiece(const Tokenizer& tok, const SavedFiles& f) {
  const json cfg = f.read_json("tokenizer_config.json");
  if (cfg.value("model_type", "bpe") != "bpe")
    throw UserError("the SentencePiece tokenizer is a " + cfg.value("model_type", std::string()) +
                        " model; llama.cpp's SentencePiece tokenizer merges pairs as BPE does",
                    "train the tokenizer with --type bpe to export GGUF, or export --format hf");
  GgufVocab v;
  v.model = "llama";
  v.pre = "default";
  const auto specials = tok.special_tokens();
  const std::string unk = cfg.value("unk_token", std::string("<unk>"));
  std::istringstream lines(f.read("spm.vocab"));
  int64_t id = 0;
  for (std::string line; std::getline(lines, line); ++id) {
    const size_t tab = line.rfind('\t');
    if (tab == std::string::npos) throw UserError("spm.vocab line " + std::to_string(id + 1) + " has no score", "re-save the tokenizer");
    const std::string piece = line.substr(0, tab);
    GgufTokenType type = GgufTokenType::kNormal;
    if (piece == unk) type = GgufTokenType::kUnknown;
    else if (std::find(specials.begin(), specials.end(), piece) != specials.end()) type = GgufTokenType::kControl;
    else if (is_byte_piece(piece)) type = GgufTokenType::kByte;
    place(v, piece, id, type);
    v.scores.push_back(std::strtof(line.c_str() + tab + 1, nullptr));
    if (type == GgufTokenType::kUnknown) v.unk = static_cast<int32_t>(id);
  }
  const std::string pad = cfg.value("pad_token", std::string());
  if (!pad.empty())
    if (auto p = tok.token_to_id(pad)) v.pad = *p;
  return v;
}

}  // namespace

GgufVocab gguf_vocab_of(const Tokenizer& tok, int64_t model_vocab) {
  const SavedFiles files(tok);
  GgufVocab v;
  if (tok.kind() == "gpt2-bpe") v = from_gpt2_bpe(tok, files);
  else if (tok.kind() == "tokenizer-json") v = from_tokenizer_json(files);
  else if (tok.kind() == "sentencepiece") v = from_sentencepiece(tok, files);
  else
    throw UserError("a " + tok.kind() + " tokenizer cannot be written into a GGUF file",
                    "GGUF carries byte-level BPE and SentencePiece BPE tokenizers");
  if (static_cast<int64_t>(v.tokens.size()) > model_vocab)
    throw UserError("the tokenizer has " + std::to_string(v.tokens.size()) + " tokens but the model's vocab_size is " +
                        std::to_string(model_vocab),
                    "export the tokenizer the model was trained with");
  const size_t real = v.tokens.size();
  v.tokens.resize(model_vocab);
  v.token_types.resize(model_vocab, static_cast<int32_t>(GgufTokenType::kUnused));
  if (!v.scores.empty()) v.scores.resize(model_vocab, -1e9f);
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (i >= real || (v.tokens[i].empty() && v.token_types[i] == static_cast<int32_t>(GgufTokenType::kUnused)))
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
  const std::vector<int32_t> prefix = tok.document_prefix();
  if (!prefix.empty()) {
    v.bos = prefix.front();
    v.add_bos = true;
  }
  v.eos = tok.eot_id();
  v.chat_template = tok.chat_template();
  return v;
}

void write_gguf_vocab(const GgufVocab& v, gguf::Writer& w) {
  w.set("tokenizer.ggml.model", v.model);
  w.set("tokenizer.ggml.pre", v.pre);
  w.set("tokenizer.ggml.tokens", v.tokens);
  w.set("tokenizer.ggml.token_type", v.token_types);
  if (!v.scores.empty()) w.set("tokenizer.ggml.scores", v.scores);
  if (v.model == "gpt2") w.set("tokenizer.ggml.merges", v.merges);
  if (v.bos) w.set("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*v.bos));
  if (v.eos) w.set("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*v.eos));
  if (v.unk) w.set("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(*v.unk));
  if (v.pad) w.set("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*v.pad));
  w.set("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set("tokenizer.ggml.add_eos_token", false);
  if (v.model == "llama") w.set("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (!v.chat_template.empty()) w.set("tokenizer.chat_template", v.chat_template);
}

}  // namespace ptft
