// load_tokenizer(): which kind of tokenizer a directory holds, decided by its files.
#include "ptft/tokenizer/tokenizer.h"

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
    "tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe, or vocab.txt";

// The "type" of a ptft tokenizer_config.json, or "" when there is none (a Hugging Face
// tokenizer_config.json has no "type").
std::string ptft_type(const std::string& config_path) {
  if (!is_file(config_path)) return {};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(fs::read_file(config_path, "tokenizer config"));
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + config_path + "' is not valid JSON: " + e.what(), "fix the file or remove it");
  }
  if (!j.is_object() || !j.contains("type")) return {};
  if (!j["type"].is_string())
    throw UserError("'" + config_path + "': \"type\" must be a string, got " + j["type"].dump(),
                    "use \"sentencepiece\", \"gpt2-bpe\", \"wordpiece\" or \"tokenizer-json\"");
  return j["type"].get<std::string>();
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
  // vocab.json + merges.txt, which miss its NFC normaliser and digit rules.
  if (is_file(dir + "/tokenizer.json")) return HfTokenizer::from_dir(dir);
  if ((is_file(dir + "/vocab.json") && is_file(dir + "/merges.txt")) ||
      (is_file(dir + "/encoder.json") && is_file(dir + "/vocab.bpe")))
    return Gpt2Bpe::from_dir(dir);
  if (is_file(dir + "/vocab.txt")) return WordPiece::from_dir(dir);
  return nullptr;
}

}  // namespace

TokenizerPtr load_tokenizer(const std::string& dir) {
  std::error_code ec;
  if (!sfs::exists(dir, ec))
    throw UserError("tokenizer directory '" + dir + "' does not exist",
                    "pass a directory made by `ptft tokenizer train` or a Hugging Face model directory");
  if (!sfs::is_directory(dir, ec))
    throw UserError("tokenizer path '" + dir + "' is not a directory",
                    "pass the directory that holds the tokenizer files, not a file in it");
  try {
    if (TokenizerPtr t = load_from(dir)) return t;
    // A checkpoint keeps its tokenizer in tokenizer/.
    if (sfs::is_directory(dir + "/tokenizer", ec))
      if (TokenizerPtr t = load_from(dir + "/tokenizer")) return t;
  } catch (const UserError& e) {
    throw e.with_context("loading tokenizer '" + dir + "'");
  }
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
  try {
    if (TokenizerPtr t = load_from(dir)) return t;
    if (sfs::is_directory(dir + "/tokenizer", ec))
      if (TokenizerPtr t = load_from(dir + "/tokenizer")) return t;
  } catch (const UserError& e) {
    throw e.with_context("loading tokenizer '" + dir + "'");
  }
  return nullptr;
}

}  // namespace ptft
