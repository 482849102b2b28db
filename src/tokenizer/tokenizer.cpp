// load_tokenizer(): which kind of tokenizer a directory holds, decided by its files.
#include "ptft/tokenizer/tokenizer.h"
#include "ptft/core/json_depth.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/tokenizer/gpt2_bpe.h"
#include "ptft/tokenizer/hf_tokenizer.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"
#include "ptft/tokenizer/wordpiece.h"

namespace ptft {
namespace {

namespace sfs = std::filesystem;

bool is_file(const std::string& path) {
  std::error_code ec;
  return sfs::is_regular_file(path, ec);
}

const char* kLookedFor =
    "tokenizer_config.json with \"type\" (sentencepiece | gpt2-bpe | wordpiece | tokenizer-json), "
    "tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe, or vocab.txt (there, in tokenizer/ or "
    "ptft_tokenizer/, or in a run's checkpoints/best|last/tokenizer/)";

// The "type" of a ptft tokenizer_config.json, or "" when there is none (a Hugging Face
// tokenizer_config.json has no "type").
std::string ptft_type(const std::string& config_path) {
  if (!is_file(config_path)) return {};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_json_text(config_path, "tokenizer config"));
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + config_path + "' is not valid JSON: " + e.what(), "fix the file or remove it");
  }
  if (!j.is_object() || !j.contains("type")) return {};
  if (!j["type"].is_string())
    throw UserError("'" + config_path + "': \"type\" must be a string, got " + j["type"].dump(),
                    "use \"sentencepiece\", \"gpt2-bpe\", \"wordpiece\" or \"tokenizer-json\"");
  return j["type"].get<std::string>();
}

// What a tokenizer.json holds, as far as choosing a reader goes: its model's type, and whether
// it is GPT-2's own pipeline (no normaliser, ByteLevel with GPT-2's regex and no prefix space,
// plain BPE, no added token but <|endoftext|>), which Gpt2Bpe reads from vocab.json + merges.txt
// with the same ids. {"", false} when the file is not JSON (HfTokenizer then says so).
struct TokenizerJsonShape {
  std::string model_type;
  bool gpt2_pipeline = false;
};

TokenizerJsonShape peek_tokenizer_json(const nlohmann::json& j);

TokenizerJsonShape peek_tokenizer_json(const std::string& path) {
  try {
    return peek_tokenizer_json(nlohmann::json::parse(read_json_text(path, "tokenizer.json")));
  } catch (const nlohmann::json::exception&) {
    return {};  // not JSON, or a value of the wrong type: HfTokenizer says what is wrong
  }
}

TokenizerJsonShape peek_tokenizer_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) return {};
  const nlohmann::json& m = j["model"];
  TokenizerJsonShape shape;
  shape.model_type = m.value("type", std::string(m.contains("merges") ? "BPE" : ""));
  auto is_false = [](const nlohmann::json& o, const char* key) { return !o.contains(key) || o[key] == false || o[key].is_null(); };
  auto is_empty = [](const nlohmann::json& o, const char* key) { return !o.contains(key) || o[key].is_null() || o[key] == ""; };
  const nlohmann::json pre = j.value("pre_tokenizer", nlohmann::json());
  bool only_eot = true;
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& t : j["added_tokens"]) only_eot = only_eot && t.is_object() && t.value("content", "") == "<|endoftext|>";
  shape.gpt2_pipeline = shape.model_type == "BPE" && j.value("normalizer", nlohmann::json()).is_null() &&
                        pre.is_object() && pre.value("type", "") == "ByteLevel" && is_false(pre, "add_prefix_space") &&
                        (!pre.contains("use_regex") || pre["use_regex"] == true) && is_false(m, "byte_fallback") &&
                        is_false(m, "ignore_merges") && is_empty(m, "continuing_subword_prefix") &&
                        is_empty(m, "end_of_word_suffix") && (m.value("dropout", nlohmann::json()).is_null()) && only_eot;
  return shape;
}

TokenizerPtr load_from(const std::string& dir) {
  const std::string type = ptft_type(dir + "/tokenizer_config.json");
  if (type == "sentencepiece") return SentencePieceTokenizer::from_dir(dir);
  if (type == "gpt2-bpe") return Gpt2Bpe::from_dir(dir);
  if (type == "wordpiece") return WordPiece::from_dir(dir);
  if (type == "tokenizer-json") return HfTokenizer::from_dir(dir);
  if (!type.empty()) {
    const std::vector<std::string> known = {"sentencepiece", "gpt2-bpe", "wordpiece", "tokenizer-json"};
    const std::string near = config::nearest(type, known);
    throw UserError("'" + dir + "/tokenizer_config.json' has unknown tokenizer type \"" + type + "\"",
                    (near.empty() ? std::string() : "did you mean \"" + near + "\"? ") +
                        "known types: sentencepiece, gpt2-bpe, wordpiece, tokenizer-json");
  }
  // A Hugging Face model directory (or OpenAI's GPT-2 file names). tokenizer.json first, as
  // transformers' AutoTokenizer prefers the fast tokenizer: Qwen2.5 directories also hold
  // vocab.json + merges.txt, which miss its NFC normaliser and digit rules. Except where the
  // older files say the same: BERT's tokenizer.json (WordPiece) beside vocab.txt, and GPT-2's
  // own pipeline beside vocab.json + merges.txt keep their readers (and hashes, and exports).
  const bool gpt2_files = (is_file(dir + "/vocab.json") && is_file(dir + "/merges.txt")) ||
                          (is_file(dir + "/encoder.json") && is_file(dir + "/vocab.bpe"));
  if (is_file(dir + "/tokenizer.json")) {
    const bool vocab_txt = is_file(dir + "/vocab.txt");
    if (!gpt2_files && !vocab_txt) return HfTokenizer::from_dir(dir);
    const TokenizerJsonShape shape = peek_tokenizer_json(dir + "/tokenizer.json");
    if (vocab_txt && shape.model_type == "WordPiece") return WordPiece::from_dir(dir);
    if (gpt2_files && shape.gpt2_pipeline) return Gpt2Bpe::from_dir(dir);
    return HfTokenizer::from_dir(dir);
  }
  if ((is_file(dir + "/vocab.json") && is_file(dir + "/merges.txt")) ||
      (is_file(dir + "/encoder.json") && is_file(dir + "/vocab.bpe")))
    return Gpt2Bpe::from_dir(dir);
  if (is_file(dir + "/vocab.txt")) return WordPiece::from_dir(dir);
  return nullptr;
}

// Where a path given for a tokenizer may keep one, in order: a checkpoint's tokenizer/, an
// exported Hugging Face directory's ptft_tokenizer/ (ptft's exact form, before the tokenizer.json
// written beside it for Hugging Face), the directory itself, a run directory's best and last
// checkpoints (as --model takes a run directory).
TokenizerPtr load_from_places(const std::string& dir) {
  std::error_code ec;
  try {
    for (const char* sub : {"/tokenizer", "/ptft_tokenizer", "", "/checkpoints/best/tokenizer", "/checkpoints/last/tokenizer"})
      if (sfs::is_directory(dir + sub, ec))
        if (TokenizerPtr t = load_from(dir + sub)) return t;
  } catch (const UserError& e) {
    throw e.with_context("loading tokenizer '" + dir + "'");
  }
  return nullptr;
}

}  // namespace

TokenizerPtr load_tokenizer(const std::string& dir) {
  std::error_code ec;
  if (!sfs::exists(dir, ec))
    throw UserError("tokenizer directory '" + dir + "' does not exist",
                    "pass a directory made by `ptft tokenizer train`, a run or checkpoint directory or a Hugging "
                    "Face model directory");
  if (!sfs::is_directory(dir, ec))
    throw UserError("tokenizer path '" + dir + "' is not a directory",
                    "pass the directory that holds the tokenizer files, not a file in it");
  if (TokenizerPtr t = load_from_places(dir)) return t;
  std::string present;
  int shown = 0;
  for (const auto& e : sfs::directory_iterator(dir, ec)) {
    if (shown++ == 8) {
      present += ", ...";
      break;
    }
    present += (present.empty() ? "" : ", ") + e.path().filename().string();
  }
  throw UserError("no tokenizer found in '" + dir + "' (it holds: " + (present.empty() ? "nothing" : present) + ")",
                  std::string("looked for ") + kLookedFor);
}

TokenizerPtr find_tokenizer(const std::string& dir) {
  std::error_code ec;
  if (!sfs::is_directory(dir, ec)) return nullptr;
  return load_from_places(dir);
}

}  // namespace ptft
