// HfTokenizer: loading tokenizer.json and the Tokenizer interface. The components live in
// hf_normalizer.cpp, hf_pre_tokenizer.cpp, hf_bpe_model.cpp, hf_added_tokens.cpp,
// hf_decoder.cpp and hf_post_processor.cpp.
#include "ptft/tokenizer/hf_tokenizer.h"
#include "ptft/core/json_depth.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <unordered_map>

#include "bpe_piece_cache.h"
#include "gpt2_files.h"
#include "hf_added_tokens.h"
#include "hf_bpe_model.h"
#include "hf_decoder.h"
#include "hf_json.h"
#include "hf_normalizer.h"
#include "hf_post_processor.h"
#include "hf_pre_tokenizer.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/hash.h"
#include "utf8_check.h"

namespace ptft {
namespace {

namespace stdfs = std::filesystem;
using hf::Json;
using hf::JsonAt;

std::atomic<uint64_t> g_next_serial{1};

// `text` with each byte that does not start a well-formed UTF-8 sequence replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8::sequence_length(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  return out;
}

// A token named in tokenizer_config.json: "<s>", {"content": "<s>", ...} or null.
std::optional<std::string> config_token(const Json& config, const JsonAt& at, const char* key) {
  if (!config.is_object() || !config.contains(key) || config[key].is_null()) return std::nullopt;
  const Json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  at[key].fail(v, "expected a token (a string, or {\"content\": ...})", "write it as \"</s>\"");
}

Json parse_json(const std::string& bytes, const std::string& file) {
  require_json_depth(bytes, "'" + file + "'");
  try {
    return Json::parse(bytes);
  } catch (const Json::exception& e) {
    throw UserError("'" + file + "' is not valid JSON: " + e.what(),
                    "fetch the file again (a download cut short?) or fix it");
  }
}

}  // namespace

struct HfTokenizer::Impl {
  std::string dir;
  std::string tokenizer_json;  // the files, as read (save() writes them back)
  std::string config_json;
  std::string chat_template_jinja;
  bool has_chat_template_jinja = false;

  std::unique_ptr<hf::Normalizer> normalizer;
  std::unique_ptr<hf::PreTokenizer> pre_tokenizer;
  bool byte_level_pieces = false;
  std::unique_ptr<hf::BpeModel> model;
  hf::AddedTokens added;
  std::unordered_map<int32_t, std::size_t> added_by_id;         // id -> index into added.tokens()
  std::unordered_map<std::string, int32_t> added_by_content;  // the first token with that content
  std::unique_ptr<hf::Decoder> decoder;
  bool clean_up_spaces = false;
  uint64_t serial = 0;

  // Encodes text between raw added tokens.
  void encode_section(std::string_view text, bool at_start, std::vector<int32_t>* out) const;
  void encode_pieces(std::string_view text, bool at_start, std::vector<int32_t>* out) const;
};

HfTokenizer::HfTokenizer() : impl_(std::make_unique<Impl>()) {}
HfTokenizer::~HfTokenizer() = default;

std::shared_ptr<const HfTokenizer> HfTokenizer::from_dir(const std::string& dir) {
  std::error_code ec;
  const std::string tj = dir + "/tokenizer.json";
  if (!stdfs::is_regular_file(tj, ec))
    throw UserError("'" + dir + "' holds no tokenizer.json",
                    "pass a Hugging Face model directory that has one (or fetch examples with "
                    "scripts/fetch-hf-tokenizers.sh)");
  const std::string cj = dir + "/tokenizer_config.json";
  const std::string config = stdfs::is_regular_file(cj, ec) ? fs::read_file(cj, "tokenizer config") : std::string();
  const std::string jinja = dir + "/chat_template.jinja";
  std::optional<std::string> chat_template;
  if (stdfs::is_regular_file(jinja, ec)) chat_template = fs::read_file(jinja, "chat template");
  return load(fs::read_file(tj, "tokenizer.json"), config, chat_template, dir);
}

std::shared_ptr<const HfTokenizer> HfTokenizer::from_json(const std::string& tokenizer_json,
                                                          const std::string& config_json,
                                                          const std::string& dir) {
  return load(tokenizer_json, config_json, std::nullopt, dir);
}

std::shared_ptr<HfTokenizer> HfTokenizer::load(const std::string& tokenizer_json, const std::string& config_json,
                                               const std::optional<std::string>& chat_template_jinja,
                                               const std::string& dir) {
  std::shared_ptr<HfTokenizer> tok(new HfTokenizer());
  Impl& m = *tok->impl_;
  m.dir = dir;
  m.tokenizer_json = tokenizer_json;
  m.config_json = config_json;
  const JsonAt at{dir + "/tokenizer.json", ""};
  const Json j = parse_json(tokenizer_json, at.file);
  at.require_object(j);

  m.normalizer = hf::make_normalizer(j.value("normalizer", Json()), at["normalizer"]);
  m.pre_tokenizer = hf::make_pre_tokenizer(j.value("pre_tokenizer", Json()), at["pre_tokenizer"], &m.byte_level_pieces);
  m.model = hf::BpeModel::from_json(at.required(j, "model"), at["model"], m.byte_level_pieces);
  m.added = hf::AddedTokens::from_json(j.value("added_tokens", Json()), at["added_tokens"]);
  m.added.prepare(m.normalizer.get());
  m.decoder = hf::make_decoder(j.value("decoder", Json()), at["decoder"]);

  // Ids: the vocabulary's, then the added tokens' (which may repeat a vocabulary entry with the
  // same id, as Llama-2's "<s>").
  const auto& vocab = m.model->tokens();
  const auto& used = m.model->id_used();
  int32_t size = static_cast<int32_t>(vocab.size());
  for (std::size_t k = 0; k < m.added.tokens().size(); ++k) {
    const hf::AddedToken& t = m.added.tokens()[k];
    const std::size_t id = static_cast<std::size_t>(t.id);
    if (id < vocab.size() && used[id] && vocab[id] != t.content)
      at["added_tokens"][k]["id"].fail(Json(t.id), "the vocabulary gives this id to " +
                                                       gpt2_files::json_quote(vocab[id]) + ", not to " +
                                                       gpt2_files::json_quote(t.content),
                                       "give the added token an id no other token has");
    if (m.added_by_id.count(t.id) && m.added.tokens()[m.added_by_id[t.id]].content != t.content)
      at["added_tokens"][k]["id"].fail(Json(t.id), "two added tokens have this id", "give each its own id");
    m.added_by_id.emplace(t.id, k);
    m.added_by_content.emplace(t.content, t.id);
    size = std::max(size, t.id + 1);
  }
  tok->vocab_size_ = size;

  const auto id_of = [&tok](const std::string& s) { return tok->token_to_id(s); };
  const hf::PostProcessor post = hf::PostProcessor::from_json(j.value("post_processor", Json()), at["post_processor"], id_of);
  tok->prefix_ids_ = post.prefix;
  tok->suffix_ids_ = post.suffix;

  // tokenizer_config.json: the eos / bos tokens, decode's clean-up, the chat template.
  const JsonAt cat{dir + "/tokenizer_config.json", ""};
  const Json config = config_json.empty() ? Json::object() : parse_json(config_json, cat.file);
  if (!config.is_object()) cat.fail(config, "expected a JSON object", "fix or delete the file");
  m.clean_up_spaces = cat.boolean_or(config, "clean_up_tokenization_spaces", false);
  if (const auto eos = config_token(config, cat, "eos_token")) {
    tok->eot_id_ = tok->token_to_id(*eos);
    if (!tok->eot_id_)
      cat["eos_token"].fail(Json(*eos), "no such token in tokenizer.json",
                            "name a token of the vocabulary or an added token");
  } else {
    for (const char* name : {"<|endoftext|>", "<|end_of_text|>", "</s>", "<|im_end|>"}) {
      for (const auto& t : m.added.tokens())
        if (t.special && t.content == name) tok->eot_id_ = t.id;
      if (tok->eot_id_) break;
    }
  }
  if (const auto bos = config_token(config, cat, "bos_token")) tok->bos_id_ = tok->token_to_id(*bos);
  // transformers' LlamaTokenizerFast (and CodeLlama's) rebuild the post-processor from the config:
  // BOS first when add_bos_token (default true), EOS last when add_eos_token (default false).
  const std::string cls = cat.string_or(config, "tokenizer_class", "");
  if (cls == "LlamaTokenizer" || cls == "LlamaTokenizerFast" || cls == "CodeLlamaTokenizer" ||
      cls == "CodeLlamaTokenizerFast") {
    tok->prefix_ids_.clear();
    tok->suffix_ids_.clear();
    if (cat.boolean_or(config, "add_bos_token", true) && tok->bos_id_) tok->prefix_ids_.push_back(*tok->bos_id_);
    if (cat.boolean_or(config, "add_eos_token", false) && tok->eot_id_) tok->suffix_ids_.push_back(*tok->eot_id_);
  }
  if (config.contains("chat_template")) {
    const Json& ct = config["chat_template"];
    if (ct.is_string()) {
      tok->chat_template_ = ct.get<std::string>();
    } else if (ct.is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const Json& e : ct)
        if (e.is_object() && e.contains("name") && e["name"] == "default" && e.contains("template") &&
            e["template"].is_string())
          tok->chat_template_ = e["template"].get<std::string>();
    }
  }
  if (chat_template_jinja) {
    m.chat_template_jinja = *chat_template_jinja;
    m.has_chat_template_jinja = true;
    tok->chat_template_ = *chat_template_jinja;
  }
  tok->content_hash_ = fnv1a64_hex(tokenizer_json);
  m.serial = g_next_serial.fetch_add(1);
  return tok;
}

// ---------------------------------------------------------------------------------------------
// Encoding

std::vector<int32_t> HfTokenizer::encode(std::string_view text) const {
  std::string fixed;
  if (utf8::first_invalid(text) != std::string_view::npos) {
    fixed = replace_invalid_utf8(text);
    text = fixed;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 16);
  impl_->added.split(
      text, /*normalized=*/false, /*text_at_start=*/true,
      [&](std::string_view part, bool at_start) { impl_->encode_section(part, at_start, &out); },
      [&](int32_t id) { out.push_back(id); });
  return out;
}

std::vector<int32_t> HfTokenizer::encode_with_specials(std::string_view text) const {
  std::vector<int32_t> out = prefix_ids_;
  const std::vector<int32_t> ids = encode(text);
  out.insert(out.end(), ids.begin(), ids.end());
  out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

void HfTokenizer::Impl::encode_section(std::string_view text, bool at_start, std::vector<int32_t>* out) const {
  std::string normalized;
  if (normalizer) {
    normalized.assign(text.data(), text.size());
    normalizer->normalize(&normalized);
    text = normalized;
  }
  added.split(
      text, /*normalized=*/true, at_start, [&](std::string_view part, bool start) { encode_pieces(part, start, out); },
      [&](int32_t id) { out->push_back(id); });
}

void HfTokenizer::Impl::encode_pieces(std::string_view text, bool at_start, std::vector<int32_t>* out) const {
  thread_local hf::Pieces pieces;
  thread_local PieceCaches caches;
  pieces.reset(text, at_start);
  if (pre_tokenizer) pre_tokenizer->apply(&pieces);
  PieceCache& cache = caches.cache_for(serial);
  for (const hf::Piece& p : pieces.list) {
    const std::string_view piece = pieces.view(p);
    if (piece.size() > PieceCache::kMaxPieceBytes) {
      model->encode_piece(piece, out);
      continue;
    }
    cache.encode_through(piece, out, [this](std::string_view s, std::vector<int32_t>* o) { model->encode_piece(s, o); });
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding and the rest

std::string HfTokenizer::decode(const std::vector<int32_t>& ids) const { return decode_text(ids, impl_->clean_up_spaces); }

std::string HfTokenizer::decode_stream(const std::vector<int32_t>& ids) const { return decode_text(ids, false); }

std::string HfTokenizer::decode_text(const std::vector<int32_t>& ids, bool clean_up) const {
  std::vector<hf::DecodePiece> tokens;
  tokens.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto it = impl_->added_by_id.find(ids[i]);
    if (it != impl_->added_by_id.end()) {
      tokens.push_back({impl_->added.tokens()[it->second].content, true});
      continue;
    }
    const auto& used = impl_->model->id_used();
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= used.size() || !used[ids[i]])
      throw UserError("cannot decode id " + std::to_string(ids[i]) + " (position " + std::to_string(i) +
                          "): no token of '" + impl_->dir + "/tokenizer.json' has it (ids 0.." +
                          std::to_string(vocab_size_ - 1) + ")",
                      "were these ids made with another tokenizer?");
    tokens.push_back({impl_->model->tokens()[ids[i]], false});
  }
  std::string text;
  if (impl_->decoder) {
    impl_->decoder->decode_chain(&tokens);
    for (const auto& t : tokens) text += t.text;
  } else {
    for (std::size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i].text;
  }
  return clean_up ? hf::clean_up_tokenization(std::move(text)) : text;
}

std::string HfTokenizer::id_to_token(int32_t id) const {
  const auto it = impl_->added_by_id.find(id);
  if (it != impl_->added_by_id.end()) return impl_->added.tokens()[it->second].content;
  const auto& used = impl_->model->id_used();
  if (id < 0 || static_cast<std::size_t>(id) >= used.size() || !used[id])
    throw UserError("id " + std::to_string(id) + " is not a token of '" + impl_->dir + "/tokenizer.json' (ids 0.." +
                        std::to_string(vocab_size_ - 1) + ")",
                    "were these ids made with another tokenizer?");
  return impl_->model->tokens()[id];
}

std::optional<int32_t> HfTokenizer::token_to_id(const std::string& token) const {
  const auto added = impl_->added_by_content.find(token);
  if (added != impl_->added_by_content.end()) return added->second;
  const auto it = impl_->model->ids().find(token);
  if (it == impl_->model->ids().end()) return std::nullopt;
  return it->second;
}

int32_t HfTokenizer::eot_id() const {
  if (!eot_id_)
    throw UserError("'" + impl_->dir + "' names no end-of-text token: tokenizer_config.json has no \"eos_token\" "
                        "and no special added token is <|endoftext|>, <|end_of_text|>, </s> or <|im_end|>",
                    "add \"eos_token\": \"<the token that ends a document>\" to " + impl_->dir +
                        "/tokenizer_config.json");
  return *eot_id_;
}

std::vector<std::string> HfTokenizer::special_tokens() const {
  std::vector<std::pair<int32_t, std::string>> specials;
  for (const auto& t : impl_->added.tokens())
    if (t.special) specials.emplace_back(t.id, t.content);
  std::sort(specials.begin(), specials.end());
  specials.erase(std::unique(specials.begin(), specials.end()), specials.end());
  std::vector<std::string> out;
  for (auto& s : specials) out.push_back(std::move(s.second));
  return out;
}

void HfTokenizer::save(const std::string& dir) const {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec)
    throw UserError("cannot create tokenizer directory '" + dir + "': " + ec.message(),
                    "check that its parent exists and is writable");
  fs::write_file_atomic(dir + "/tokenizer.json", impl_->tokenizer_json);
  if (!impl_->config_json.empty()) fs::write_file_atomic(dir + "/tokenizer_config.json", impl_->config_json);
  if (impl_->has_chat_template_jinja) fs::write_file_atomic(dir + "/chat_template.jinja", impl_->chat_template_jinja);
}

}  // namespace ptft
