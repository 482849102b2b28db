// A GGUF file's tokenizer.ggml.* keys as the tokenizer.json they stand for (gguf_vocab.h).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "ptft/core/error.h"
#include "ptft/tokenizer/gguf_vocab.h"
#include "ptft/tokenizer/hf_tokenizer.h"
#include "gguf_pre_tokenizers.h"
#include "utf8_check.h"

namespace ptft {
namespace {

using nlohmann::json;

GgufVocab read_keys(const gguf::File& f) {
  GgufVocab k;
  k.model = f.get_string("tokenizer.ggml.model");
  k.pre = f.find("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  k.tokens = f.get_array_of_strings("tokenizer.ggml.tokens");
  k.token_types = f.find("tokenizer.ggml.token_type") ? f.get_array<int32_t>("tokenizer.ggml.token_type")
                                                      : std::vector<int32_t>(k.tokens.size(), 1);
  if (k.token_types.size() != k.tokens.size())
    throw UserError("GGUF file '" + f.path() + "': tokenizer.ggml.token_type has " + std::to_string(k.token_types.size()) +
                    " entries for " + std::to_string(k.tokens.size()) + " tokens");
  if (f.find("tokenizer.ggml.scores")) k.scores = f.get_array<float>("tokenizer.ggml.scores");
  if (f.find("tokenizer.ggml.merges")) k.merges = f.get_array_of_strings("tokenizer.ggml.merges");
  auto id = [&](const char* key) -> std::optional<int32_t> {
    if (!f.find(key)) return std::nullopt;
    const uint64_t v = f.get_unsigned(key);
    if (v >= k.tokens.size())
      throw UserError("GGUF file '" + f.path() + "': " + key + " " + std::to_string(v) + " is past the " +
                      std::to_string(k.tokens.size()) + " tokens");
    return static_cast<int32_t>(v);
  };
  k.bos = id("tokenizer.ggml.bos_token_id");
  k.eos = id("tokenizer.ggml.eos_token_id");
  k.unk = id("tokenizer.ggml.unknown_token_id");
  k.add_bos = f.find("tokenizer.ggml.add_bos_token") && f.get_bool("tokenizer.ggml.add_bos_token");
  k.add_space_prefix = f.find("tokenizer.ggml.add_space_prefix") && f.get_bool("tokenizer.ggml.add_space_prefix");
  if (f.find("tokenizer.chat_template")) k.chat_template = f.get_string("tokenizer.chat_template");
  if (k.scores.size() > k.tokens.size())
    throw UserError("GGUF file '" + f.path() + "': tokenizer.ggml.scores has " + std::to_string(k.scores.size()) +
                    " entries for " + std::to_string(k.tokens.size()) + " tokens");
  // GGUF strings are UTF-8 by the spec; the tokenizer.json built from them must be (fuzz_gguf_tokenizer).
  const std::string where = "GGUF file '" + f.path() + "': ";
  for (size_t i = 0; i < k.tokens.size(); ++i)
    utf8::require_valid(k.tokens[i], where + "tokenizer.ggml.tokens[" + std::to_string(i) + "]");
  for (size_t i = 0; i < k.merges.size(); ++i)
    utf8::require_valid(k.merges[i], where + "tokenizer.ggml.merges[" + std::to_string(i) + "]");
  utf8::require_valid(k.chat_template, where + "tokenizer.chat_template");
  return k;
}

json byte_level(bool regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", regex}};
}

json split_then_bytes(const std::string& regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}}, byte_level(false)}}};
}

json pre_tokenizer_of(const std::string& pre, const std::string& where) {
  if (pre == "gpt-2") return byte_level(true);
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3")
    return split_then_bytes(gguf_pre::kLlama3Split);
  if (pre == "qwen2")
    return split_then_bytes(gguf_pre::kQwen2Split);
  if (pre == "smollm")
    return {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}};
  throw UserError(where + ": tokenizer.ggml.pre '" + pre + "' is not a pre-tokenizer ptft reads",
                  "ptft reads llama-bpe, qwen2, smollm and gpt-2 (or read the model's Hugging Face directory)");
}

json bos_template(const GgufVocab& k) {
  const std::string bos = k.tokens[*k.bos];
  return {{"type", "TemplateProcessing"},
          {"single", {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"pair",
           {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
            {{"SpecialToken", {{"id", bos}, {"type_id", 1}}}},
            {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {*k.bos}}, {"tokens", {bos}}}}}}};
}

bool is_text_token(int32_t type) {
  return type == static_cast<int32_t>(GgufTokenType::kNormal) || type == static_cast<int32_t>(GgufTokenType::kByte) ||
         type == static_cast<int32_t>(GgufTokenType::kUnknown);
}

// UTF-8 character starts within `s` (for splitting pieces into two).
std::vector<size_t> char_starts(const std::string& s) {
  std::vector<size_t> at;
  for (size_t i = 1; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
  return at;
}

// Hugging Face's SentencePiece converter: every split of a token into two tokens is a merge;
// merges ordered by the token's score (best first), a token's own by its parts' ids.
json merges_from_scores(const GgufVocab& k, const std::map<std::string, int64_t>& ids) {
  std::vector<std::tuple<float, int64_t, int64_t, int64_t>> found;  // -score, token, left, right
  for (size_t i = 0; i < k.tokens.size(); ++i) {
    if (k.token_types[i] != static_cast<int32_t>(GgufTokenType::kNormal)) continue;
    const std::string& t = k.tokens[i];
    for (size_t at : char_starts(t)) {
      auto l = ids.find(t.substr(0, at)), r = ids.find(t.substr(at));
      if (l != ids.end() && r != ids.end()) found.emplace_back(-k.scores.at(i), static_cast<int64_t>(i), l->second, r->second);
    }
  }
  std::stable_sort(found.begin(), found.end());
  json merges = json::array();
  for (const auto& [score, token, left, right] : found) merges.push_back({k.tokens[left], k.tokens[right]});
  return merges;
}

json model_json(const GgufVocab& k, bool spm, const std::string& where) {
  json vocab = json::object();
  std::map<std::string, int64_t> ids;
  for (size_t i = 0; i < k.tokens.size(); ++i)
    if (is_text_token(k.token_types[i])) {
      vocab[k.tokens[i]] = i;
      ids[k.tokens[i]] = static_cast<int64_t>(i);
    }
  json merges = json::array();
  if (spm) {
    if (k.scores.size() != k.tokens.size())
      throw UserError(where + ": a llama (SentencePiece) tokenizer needs tokenizer.ggml.scores for every token");
    merges = merges_from_scores(k, ids);
  } else {
    for (const auto& m : k.merges) merges.push_back(m);
  }
  return {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", k.unk ? json(k.tokens[*k.unk]) : json(nullptr)},
          {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", spm},
          {"byte_fallback", spm}, {"ignore_merges", !spm && (k.pre == "llama-bpe" || k.pre == "llama3" || k.pre == "llama-v3")},
          {"vocab", vocab}, {"merges", merges}};
}

json spm_normalizer(bool prefix) {
  json n = json::array();
  if (prefix) n.push_back({{"type", "Prepend"}, {"prepend", "\u2581"}});
  n.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}});
  return {{"type", "Sequence"}, {"normalizers", n}};
}

json spm_decoder(bool prefix) {
  json d = {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}}};
  if (prefix) d.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return {{"type", "Sequence"}, {"decoders", d}};
}

}  // namespace

TokenizerFiles tokenizer_json_of(const GgufVocab& k, const std::string& where) {
  if (k.model != "gpt2" && k.model != "llama")
    throw UserError(where + ": tokenizer.ggml.model '" + k.model + "' is not a tokenizer ptft reads",
                    "ptft reads gpt2 (byte-level BPE) and llama (SentencePiece BPE) tokenizers");
  const bool spm = k.model == "llama";
  auto type_is = [&](size_t i, GgufTokenType t) { return k.token_types[i] == static_cast<int32_t>(t); };
  json added = json::array();
  for (size_t i = 0; i < k.tokens.size(); ++i)
    if (type_is(i, GgufTokenType::kControl) || type_is(i, GgufTokenType::kUserDefined))
      added.push_back({{"id", i}, {"content", k.tokens[i]}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", type_is(i, GgufTokenType::kControl)}});
  json t = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added}};
  t["normalizer"] = spm ? spm_normalizer(k.add_space_prefix) : k.pre == "qwen2" ? json{{"type", "NFC"}} : json(nullptr);
  t["pre_tokenizer"] = spm ? json(nullptr) : pre_tokenizer_of(k.pre, where);
  t["post_processor"] = k.add_bos && k.bos ? bos_template(k) : spm ? json(nullptr) : byte_level(false);
  t["decoder"] = spm ? spm_decoder(k.add_space_prefix) : byte_level(false);
  t["model"] = model_json(k, spm, where);
  json config = {{"tokenizer_class", "PreTrainedTokenizerFast"}, {"clean_up_tokenization_spaces", false}};
  if (k.bos) config["bos_token"] = k.tokens[*k.bos];
  if (k.eos) config["eos_token"] = k.tokens[*k.eos];
  if (k.unk) config["unk_token"] = k.tokens[*k.unk];
  if (!k.chat_template.empty()) config["chat_template"] = k.chat_template;
  return {t.dump(), config.dump(2)};
}

TokenizerPtr tokenizer_from_gguf(const gguf::File& f) {
  if (!f.find("tokenizer.ggml.model")) return nullptr;
  const std::string where = "GGUF file '" + f.path() + "'";
  const TokenizerFiles files = tokenizer_json_of(read_keys(f), where);
  return HfTokenizer::from_json(files.tokenizer_json, files.tokenizer_config_json, f.path());
}

TokenizerPtr as_tokenizer_json(const Tokenizer& tok) {
  const TokenizerFiles files = tokenizer_json_of(gguf_vocab_of(tok, tok.vocab_size()), "the " + tok.kind() + " tokenizer");
  return HfTokenizer::from_json(files.tokenizer_json, files.tokenizer_config_json, "the " + tok.kind() + " tokenizer as tokenizer.json");
}

}  // namespace ptft
